/**
 * ASSET_RETENTION_DAYS: images (and sidecars, previews) older than that many days are deleted, a day at a
 * time, by one bot replica (Redis lease) once an hour. 0 keeps everything. Images under a legal hold (the
 * image library's `holds`) stay; the rows of deleted images become tombstones. When the holds cannot be read
 * (the database is away) nothing is deleted that round. With S3, a bucket lifecycle rule can do the deleting
 * instead of the bot — but it knows nothing of legal holds.
 */
import type { Redis } from 'ioredis';
import { LeaderLock } from '../infra/leader-lock.js';
import type { Logger } from '../infra/logger.js';
import type { Keys } from '../jobs/keys.js';
import type { RetentionHolds } from '../library/library.js';
import type { AssetStore } from './asset-store.js';

const DAY_MS = 24 * 3600_000;

export class AssetRetention {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private readonly lock: LeaderLock;

  constructor(
    private readonly assets: AssetStore, private readonly days: number,
    redis: Redis, keys: Keys, private readonly log: Logger, private readonly everyMs = 3600_000,
    private readonly holds?: RetentionHolds,
  ) {
    this.lock = new LeaderLock(redis, keys.lock('retention'), Math.max(60_000, everyMs * 2));
  }

  start(): void {
    if (this.days <= 0) return;
    const run = (): void => { this.running ??= this.runOnce().finally(() => { this.running = undefined; }); };
    run();
    this.timer = setInterval(run, this.everyMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
    await this.lock.release().catch(() => undefined);
  }

  /** Prune once (if this replica holds the lease); returns the files deleted. Never throws. */
  async runOnce(now = Date.now()): Promise<number> {
    try {
      if (!(await this.lock.hold())) return 0;
      const before = new Date(now - this.days * DAY_MS);
      const kept = this.holds ? await this.holds.heldBefore(before) : undefined;
      const deleted = await this.assets.prune(before, kept);
      const tombstones = this.holds ? await this.holds.tombstoneExpired(before, kept ?? new Set()) : 0;
      if (deleted > 0 || tombstones > 0) this.log.info({ deleted, tombstones, held: kept?.size ?? 0, days: this.days }, 'asset retention: old images deleted');
      return deleted;
    } catch (err) {
      this.log.warn({ err }, 'asset retention failed; will retry');
      return 0;
    }
  }
}
