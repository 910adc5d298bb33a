/**
 * `npm run doctor [-- --json] [--no-smoke]`: checks what a worker needs (Node, Redis, the model directory and
 * its graphs against the v2 contract, disk, memory, the CUDA execution provider's pieces, a timed smoke
 * generation) and prints check · result · fix. Exit 1 when a required check fails.
 */
import { resolve } from 'node:path';
import { loadConfig, loadDotEnv } from '../../src/config.js';
import { runDoctor, type CheckResult, type DoctorOptions } from '../doctor/checks.js';
import { systemProbes } from '../doctor/probes.js';
import { exitCode, renderTable } from '../doctor/report.js';
import { parseFlags, runCli } from './args.js';

const USAGE = 'usage: npm run doctor -- [--json] [--no-smoke]   (reads the same environment / .env as npm start)';

runCli(USAGE, async () => {
  const f = parseFlags({ json: { type: 'boolean' }, 'no-smoke': { type: 'boolean' }, help: { type: 'boolean' } }, process.argv.slice(2));
  if (f.help) { process.stdout.write(`${USAGE}\n`); return; }
  loadDotEnv();
  const pre: CheckResult[] = [];
  let env: DoctorOptions['env'];
  let dataDir: string;
  try {
    const config = loadConfig();
    env = { ZIMAGE_EP: config.env.ZIMAGE_EP, ZIMAGE_SAFETY_CHECKER: config.env.ZIMAGE_SAFETY_CHECKER,
      ...(config.env.REDIS_URL ? { REDIS_URL: config.env.REDIS_URL } : {}), ...(config.env.ZIMAGE_MODEL_DIR ? { ZIMAGE_MODEL_DIR: resolve(config.env.ZIMAGE_MODEL_DIR) } : {}) };
    dataDir = config.dataDir;
    pre.push({ check: 'configuration', status: 'ok', result: `environment valid${config.settingsFile ? `, settings from ${config.settingsFile}` : ''}` });
  } catch (err) {
    pre.push({ check: 'configuration', status: 'fail', result: (err as Error).message.replace(/\s*\n\s*/g, ' '), fix: 'fix the variable named above (.env or the environment)' });
    env = { ZIMAGE_EP: 'cpu', ZIMAGE_SAFETY_CHECKER: false };
    dataDir = resolve('./data');
  }
  const results = [...pre, ...await runDoctor({ env, dataDir, probes: systemProbes(), smoke: f['no-smoke'] !== true })];
  process.stdout.write(f.json ? `${JSON.stringify({ ok: exitCode(results) === 0, checks: results }, null, 2)}\n` : `${renderTable(results)}\n`);
  process.exitCode = exitCode(results);
});
