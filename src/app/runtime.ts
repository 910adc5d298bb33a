/**
 * Process bootstrapping shared by the entry points: `.env`, configuration, logger, and Redis — the
 * configured REDIS_URL, or a private redis-server under DATA_DIR/redis when none is set — and the bounded
 * shutdown on SIGINT/SIGTERM.
 */
import { environmentSecrets, loadConfig, loadDotEnv, type Config } from '../config.js';
import { isZimageError } from '../errors.js';
import { Deadline } from '../infra/deadline.js';
import { createLogger, scrubSecrets, secretValues, type Logger } from '../infra/logger.js';
import { redisLabel, RedisWatch } from '../infra/redis-health.js';
import { PrivateRedis } from './private-redis.js';

export interface Runtime {
  config: Config;
  log: Logger;
  redisUrl: string;
  /** Logs each Redis outage of this process once (shared by the apps of the process). */
  redisWatch: RedisWatch;
  embeddedRedis?: PrivateRedis;
}

export async function bootstrap(processName: string, opts: { allowEmbeddedRedis: boolean }): Promise<Runtime> {
  loadDotEnv();
  const config = loadConfig();
  const log = createLogger(config.env.LOG_LEVEL, { process: processName }, { secrets: [...new Set([...secretValues(config.env), ...environmentSecrets()])] });
  installLastResort(log);
  if (config.env.REDIS_URL) return { config, log, redisUrl: config.env.REDIS_URL, redisWatch: new RedisWatch(log, redisLabel(config.env.REDIS_URL)) };
  if (!opts.allowEmbeddedRedis) {
    throw new Error('REDIS_URL is not set. Point it at the Redis the bot uses (e.g. REDIS_URL=redis://redis.internal:6379), or run `npm start` for the all-in-one local setup.');
  }
  const embeddedRedis = await PrivateRedis.start(config.dataDir, log);
  return { config, log, redisUrl: embeddedRedis.url, redisWatch: new RedisWatch(log, redisLabel(embeddedRedis.url)), embeddedRedis };
}

let shuttingDown = false;

/**
 * The last line of defence: a promise nobody awaited or a callback that threw is logged with its stack and the
 * process keeps serving (every request path has its own handling; this only catches what slipped through).
 */
function installLastResort(log: Logger): void {
  process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection (kept running)'));
  process.on('uncaughtException', (err) => log.error({ err }, 'uncaught exception (kept running)'));
}

/** Print a start-up failure as one readable message (not a stack trace) and exit; quiet when a shutdown cut the start short. */
export function exitOnStartupError(err: unknown): void {
  if (shuttingDown) return; // the shutdown handler exits
  const msg = isZimageError(err) || err instanceof Error ? err.message : String(err);
  // A driver's message may quote a URL or a token: the same scrubbing as every log line.
  process.stderr.write(`zimage-bot could not start: ${scrubSecrets(msg, environmentSecrets())}\n`);
  process.exit(1);
}

/** Time kept between the apps' deadline and the hard exit, for the exit itself. */
const EXIT_MARGIN_MS = 150;

/**
 * On the first SIGINT/SIGTERM run `stop` with a deadline inside `timeoutMs`, then exit; the process exits
 * at `timeoutMs` at the latest (the last resort: `stop` is bounded itself). A second signal exits at once.
 */
export function onShutdown(stop: (deadline: Deadline) => Promise<void>, timeoutMs: number): void {
  const handler = (signal: NodeJS.Signals): void => {
    if (shuttingDown) process.exit(1);
    shuttingDown = true;
    const s = (timeoutMs / 1000).toFixed(timeoutMs % 1000 ? 1 : 0);
    process.stderr.write(`\n${signal} received: finishing running jobs for up to ${s} s… (press Ctrl+C again to force)\n`);
    const hard = setTimeout(() => {
      process.stderr.write(`shutdown did not finish within ${s} s; exiting now (unfinished jobs run again after the next start)\n`);
      process.exit(1);
    }, timeoutMs);
    stop(Deadline.in(timeoutMs - Math.min(EXIT_MARGIN_MS, timeoutMs / 10))).then(
      () => { clearTimeout(hard); process.exit(0); },
      (err: unknown) => { process.stderr.write(`shutdown error: ${err instanceof Error ? err.message : String(err)}\n`); process.exit(1); },
    );
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, handler);
}
