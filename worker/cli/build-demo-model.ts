/**
 * `npm run demo-model`: builds (or refreshes) the demo model in DATA_DIR/models/demo and prints its path.
 * `npm run demo-model -- --full --out DIR`: writes the full-size replica (real dimensions, random weights, ≈ 6 GB)
 * for memory and speed measurements (`npm run bench:engine -- --model DIR`).
 */
import { statfs } from 'node:fs/promises';
import { resolve } from 'node:path';
import { DEMO_MODEL_VERSION, ensureDemoModel } from '../engine/demo-model/build.js';
import { writeReplicaModel } from '../engine/demo-model/replica.js';
import { loadConfig, loadDotEnv } from '../../src/config.js';
import { intFlag, parseFlags, runCli, UsageError } from './args.js';

const USAGE = `usage: npm run demo-model                       (env DATA_DIR, default ./data)
       npm run demo-model -- --full --out DIR [--text-layers 35] [--dit-layers 30] [--refiners 2]`;
/** Bytes the full replica takes, with a margin (measured: 6.1 GB). */
const FULL_BYTES = 6.5e9;

runCli(USAGE, async () => {
  const f = parseFlags({ full: { type: 'boolean' }, out: { type: 'string' }, 'text-layers': { type: 'string' }, 'dit-layers': { type: 'string' },
    refiners: { type: 'string' }, help: { type: 'boolean' } }, process.argv.slice(2));
  if (f.help) { process.stdout.write(`${USAGE}\n`); return; }
  if (!f.full) {
    loadDotEnv();
    const dir = await ensureDemoModel(loadConfig().dataDir);
    process.stdout.write(`${dir}\n`);
    process.stderr.write(`demo model v${DEMO_MODEL_VERSION} ready\n`);
    return;
  }
  if (!f.out) throw new UsageError('--full needs --out DIR (about 6 GB is written there)');
  const out = resolve(f.out);
  const opts = {
    textLayers: intFlag('text-layers', f['text-layers'], 35, 0, 35), ditLayers: intFlag('dit-layers', f['dit-layers'], 30, 0, 30),
    refiners: intFlag('refiners', f.refiners, 2, 0, 2),
  };
  const full = opts.textLayers === 35 && opts.ditLayers === 30 && opts.refiners === 2;
  const parent = resolve(out, '..');
  const free = await statfs(parent).then((s) => s.bavail * s.bsize, () => Number.POSITIVE_INFINITY);
  if (full && free < FULL_BYTES) throw new UsageError(`the full replica needs about ${(FULL_BYTES / 1e9).toFixed(1)} GB free in ${parent}; ${(free / 1e9).toFixed(1)} GB are`);
  const t0 = performance.now();
  let total = 0;
  const files = await writeReplicaModel(out, { ...opts, onFile: (path, bytes) => { total += bytes; process.stderr.write(`  ${path}  ${(bytes / 1e6).toFixed(1)} MB\n`); } });
  process.stderr.write(`full-size replica: ${files.length} files, ${(total / 1e9).toFixed(2)} GB in ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
  process.stdout.write(`${out}\n`);
});
