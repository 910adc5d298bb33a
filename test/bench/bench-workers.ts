/**
 * Benchmark helper process: BENCH_WORKERS generation workers in one process, on the synthetic engine
 * (BENCH_ENGINE=synthetic, BENCH_SERVICE_MS per image) or on the configured model (BENCH_ENGINE=model:
 * the demo model unless ZIMAGE_MODEL_DIR is set). Configuration otherwise from the environment, as `npm run worker`.
 */
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/infra/logger.js';
import { SyntheticEngine } from '../../worker/engine/synthetic-engine.js';
import { WorkerApp } from '../../worker/worker-app.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.env.LOG_LEVEL, { process: 'bench-worker' });
  const n = Number(process.env.BENCH_WORKERS ?? 1);
  const synthetic = (process.env.BENCH_ENGINE ?? 'synthetic') === 'synthetic';
  const ms = Number(process.env.BENCH_SERVICE_MS ?? 1000);
  const redisUrl = config.env.REDIS_URL!;
  const apps = Array.from({ length: n }, () => new WorkerApp({
    config, redisUrl, log, ...(synthetic ? { engine: new SyntheticEngine({ msPerImage: ms }) } : {}),
  }));
  await Promise.all(apps.map((a) => a.start()));
  process.stdout.write(`ready ${n}\n`);
  const stop = (): void => { void Promise.all(apps.map((a) => a.stop())).finally(() => process.exit(0)); };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => { process.stderr.write(`bench workers failed: ${String(err)}\n`); process.exit(1); });
