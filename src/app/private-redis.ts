/**
 * `npm start`'s private Redis (no REDIS_URL): started at boot under DATA_DIR/redis, started again on the same
 * port and data if it dies while the bot runs (the bot and worker reconnect by themselves), stopped last.
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startEmbeddedRedis, type EmbeddedRedis } from '../infra/embedded-redis.js';
import type { Logger } from '../infra/logger.js';

/** Waits between attempts to start a private Redis that died (the last one repeats). */
const RESTART_BACKOFF_MS = [500, 1000, 2000, 5000, 10_000, 30_000];

export class PrivateRedis {
  private stopping = false;

  private constructor(private current: EmbeddedRedis, private readonly log: Logger) {
    this.watch(current);
  }

  static async start(dataDir: string, log: Logger): Promise<PrivateRedis> {
    const dir = join(dataDir, 'redis');
    const redis = await startEmbeddedRedis({
      dir, onOrphan: (pid) => log.warn({ pid, dir }, 'stopping the private redis-server that an earlier run left behind'),
    });
    log.debug({ port: redis.port, pid: redis.pid }, 'private redis-server started');
    return new PrivateRedis(redis, log);
  }

  get url(): string { return this.current.url; }
  get port(): number { return this.current.port; }

  /** Stop it (and stop restarting it), waiting at most `timeoutMs`. */
  async stop(timeoutMs?: number): Promise<void> {
    this.stopping = true;
    await this.current.stop(timeoutMs);
  }

  private watch(redis: EmbeddedRedis): void {
    redis.onUnexpectedExit((how) => {
      if (this.stopping) return;
      this.log.error({ how, log: join(redis.dir, 'redis.log') }, `the private redis-server stopped (${how}); starting it again`);
      void this.restart(redis);
    });
  }

  private async restart(dead: EmbeddedRedis): Promise<void> {
    for (let attempt = 0; !this.stopping; attempt++) {
      await sleep(RESTART_BACKOFF_MS[Math.min(attempt, RESTART_BACKOFF_MS.length - 1)]!);
      if (this.stopping) return;
      try {
        this.current = await startEmbeddedRedis({ dir: dead.dir, port: dead.port });
        if (this.stopping) { await this.current.stop(); return; }
        this.log.info({ port: dead.port, pid: this.current.pid }, 'private redis-server running again');
        this.watch(this.current);
        return;
      } catch (err) {
        this.log.error({ err, attempt: attempt + 1 }, 'could not start the private redis-server again; will retry');
      }
    }
  }
}
