/** `npm run demo-model`: builds (or refreshes) the demo model in DATA_DIR/models/demo and prints its path. */
import { resolve } from 'node:path';
import { DEMO_MODEL_VERSION, ensureDemoModel } from '../engine/demo-model/build.js';
import { runCli } from './args.js';

runCli('usage: npm run demo-model   (env DATA_DIR, default ./data)', async () => {
  const dir = await ensureDemoModel(resolve(process.env.DATA_DIR ?? './data'));
  process.stdout.write(`${dir}\n`);
  process.stderr.write(`demo model v${DEMO_MODEL_VERSION} ready\n`);
});
