/**
 * `npm run model:download`: fetches the Z-Image-Turbo ONNX export (v2) into DATA_DIR/models/z-image-turbo
 * (or --dir), verified, resumable. Exit codes: 0 done, 1 other failure, 2 usage, 3 endpoint unreachable /
 * transfer failed, 4 token refused (401/403), 5 repository, revision or file not found (404), 6 not enough
 * disk space, 7 checksum mismatch after retries.
 */
import { join, relative, resolve } from 'node:path';
import { DEFAULT_ENDPOINT, DEFAULT_REPO, DEFAULT_REVISION, downloadModel } from '../download/downloader.js';
import { exitCodeOf } from '../download/errors.js';
import { DEFAULT_MODEL_SUBDIR } from '../../src/model/manifest.js';
import { BarProgress, formatBytes, LineProgress, type ProgressSink } from '../download/progress.js';
import { loadConfig, loadDotEnv } from '../../src/config.js';
import { intFlag, parseFlags, UsageError } from './args.js';

const USAGE = `usage: npm run model:download -- [--dir DIR] [--repo ${DEFAULT_REPO}] [--revision ${DEFAULT_REVISION.slice(0, 12)}…]
                               [--parallel 4] [--safety-checker] [--progress bar|lines]
env: DATA_DIR (default ./data; DIR defaults to DATA_DIR/${DEFAULT_MODEL_SUBDIR}), HF_ENDPOINT (mirror, default ${DEFAULT_ENDPOINT}),
     HF_TOKEN, ZIMAGE_MODEL_REPO, ZIMAGE_MODEL_REVISION, ZIMAGE_SAFETY_CHECKER=1 (also fetch the safety checker)
exit: 0 done · 1 other · 2 usage · 3 unreachable · 4 token refused (401/403) · 5 not found (404) · 6 disk space · 7 checksum`;

async function main(): Promise<void> {
  const f = parseFlags({ dir: { type: 'string' }, repo: { type: 'string' }, revision: { type: 'string' }, parallel: { type: 'string' },
    'safety-checker': { type: 'boolean' }, progress: { type: 'string' }, help: { type: 'boolean' } }, process.argv.slice(2));
  if (f.help) { process.stdout.write(`${USAGE}\n`); return; }
  loadDotEnv();
  const { env, dataDir } = loadConfig();
  const defaultDir = join(dataDir, DEFAULT_MODEL_SUBDIR);
  const dir = resolve(f.dir ?? defaultDir);
  const mode = f.progress ?? (process.stderr.isTTY ? 'bar' : 'lines');
  if (mode !== 'bar' && mode !== 'lines') throw new UsageError(`--progress is bar or lines, got "${mode}"`);
  const progress: ProgressSink = mode === 'bar' ? new BarProgress() : new LineProgress((line) => process.stderr.write(`${line}\n`));
  const repo = f.repo ?? env.ZIMAGE_MODEL_REPO ?? DEFAULT_REPO;
  const revision = f.revision ?? env.ZIMAGE_MODEL_REVISION ?? DEFAULT_REVISION;
  const endpoint = env.HF_ENDPOINT ?? DEFAULT_ENDPOINT;
  process.stderr.write(`model:download ${repo}@${revision} from ${endpoint} into ${dir}\n`);
  const t0 = performance.now();
  const result = await downloadModel({
    dir, repo, revision, endpoint, progress, parallel: intFlag('parallel', f.parallel, 4, 1, 16),
    safetyChecker: f['safety-checker'] === true || env.ZIMAGE_SAFETY_CHECKER,
    ...(env.HF_TOKEN ? { token: env.HF_TOKEN } : {}),
  });
  const secs = (performance.now() - t0) / 1000;
  const fetched = result.files.filter((x) => x.status !== 'verified').length;
  process.stderr.write(`${result.files.length} files verified (${fetched} fetched, ${formatBytes(result.downloadedBytes)} in ${secs.toFixed(0)} s), ${result.repo}@${result.commit.slice(0, 7)}\n`);
  const rel = relative(process.cwd(), dir);
  const shown = rel === '' ? '.' : rel.startsWith('..') ? dir : rel;
  process.stdout.write(dir === defaultDir
    ? `model ready in ${shown}: \`npm start\` uses it by itself (or ZIMAGE_MODEL_DIR=${shown} npm start)\n`
    : `model ready: ZIMAGE_MODEL_DIR=${shown} npm start\n`);
}

main().catch((err: unknown) => {
  if (err instanceof UsageError) {
    process.stderr.write(`error: ${err.message}\n\n${USAGE}\n`);
    process.exit(2);
  }
  const code = (err as { code?: unknown }).code;
  process.stderr.write(`\nerror${typeof code === 'string' ? ` [${code}]` : ''}: ${String((err as Error).message ?? err).split('\n')[0]}\n`);
  process.exit(exitCodeOf(err));
});
