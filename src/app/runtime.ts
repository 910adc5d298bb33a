/**
 * Process bootstrapping shared by the entry points: `.env`, configuration, logger, and Redis — the
 * configured REDIS_URL, or a private redis-server under DATA_DIR/redis when none is set.
 */
import { join } from 'node:path';
import { loadConfig, loadDotEnv, type Config } from '../config.js';
import { isZimageError } from '../errors.js';
import { startEmbeddedRedis, type EmbeddedRedis } from '../infra/embedded-redis.js';
import { createLogger, secretValues, type Logger } from '../infra/logger.js';

export interface Runtime {
  config: Config;
  log: Logger;
  redisUrl: string;
  embeddedRedis?: EmbeddedRedis;
}

export async function bootstrap(processName: string, opts: { allowEmbeddedRedis: boolean }): Promise<Runtime> {
  loadDotEnv();
  const config = loadConfig();
  const log = createLogger(config.env.LOG_LEVEL, { process: processName }, { secrets: [...new Set([...secretValues(config.env), ...secretValues(process.env)])] });
  if (config.env.REDIS_URL) return { config, log, redisUrl: config.env.REDIS_URL };
  if (!opts.allowEmbeddedRedis) {
    throw new Error('REDIS_URL is not set. Point it at the Redis the bot uses (e.g. REDIS_URL=redis://redis.internal:6379), or run `npm start` for the all-in-one local setup.');
  }
  const embeddedRedis = await startEmbeddedRedis({ dir: join(config.dataDir, 'redis') });
  log.debug({ port: embeddedRedis.port }, 'private redis-server started');
  return { config, log, redisUrl: embeddedRedis.url, embeddedRedis };
}

/** Print a start-up failure as one readable message (not a stack trace) and exit. */
export function exitOnStartupError(err: unknown): never {
  const msg = isZimageError(err) || err instanceof Error ? err.message : String(err);
  process.stderr.write(`zimage-bot could not start: ${msg}\n`);
  process.exit(1);
}

/** Run `stop` once on SIGINT/SIGTERM, then exit. */
export function onShutdown(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (stopping) { process.exit(1); }
    stopping = true;
    process.stderr.write(`\n${signal} received, finishing up… (press Ctrl+C again to force)\n`);
    stop().then(() => process.exit(0), (err: unknown) => { process.stderr.write(`shutdown error: ${String(err)}\n`); process.exit(1); });
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}
