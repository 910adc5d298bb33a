/**
 * Writing rows, on the bot's delivery path. Workers may run where the database is not (and PGlite serves
 * one process), so the worker only stores files (image, preview, sidecar) and the bot that delivers a job
 * writes its rows — one idempotent upsert per job, once the images are posted and before "Done" shows (a PGlite
 * query runs on the bot's thread: started alongside the post, it held the post back). A write that fails (the
 * database is restarting, the network is down) never holds a delivery back: the job's images go to a list in
 * Redis, and whichever bot can reach the database writes them later (every RETRY_MS). `npm run
 * index:backfill` rebuilds everything from the sidecars if all else fails.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../infra/logger.js';
import type { Keys } from '../jobs/keys.js';
import type { StoredImage } from '../jobs/types.js';

/** What the writer writes to (ImageLibrary). */
export interface RowSink {
  record(images: readonly StoredImage[]): Promise<void>;
}

export interface IndexWriterOptions {
  sink: RowSink;
  redis: Redis;
  keys: Keys;
  log: Logger;
  retryMs?: number;
}

const RETRY_MS = 30_000;
/** Jobs kept waiting at most (the oldest are dropped beyond; the backfill can still index them). */
const PENDING_MAX = 100_000;
const DRAIN_BATCH = 100;

export class IndexWriter {
  private timer: NodeJS.Timeout | undefined;
  private draining: Promise<number> | undefined;

  constructor(private readonly o: IndexWriterOptions) {}

  /** Write a delivered job's rows; on failure keep them for later. Never throws. */
  async record(images: readonly StoredImage[]): Promise<void> {
    if (images.length === 0) return;
    try {
      await this.o.sink.record(images);
    } catch (err) {
      this.o.log.warn({ err, jobId: images[0]!.metadata.jobId }, 'image index: could not write; will retry');
      await this.o.redis.multi().lpush(this.o.keys.libraryPending(), JSON.stringify(images)).ltrim(this.o.keys.libraryPending(), 0, PENDING_MAX - 1).exec()
        .catch((e: unknown) => this.o.log.error({ err: e, jobId: images[0]!.metadata.jobId }, 'image index: could not keep the rows for later; run npm run index:backfill'));
    }
  }

  /** Write what is waiting; returns how many jobs were written. Stops at the first failure (their rows stay waiting). */
  drain(): Promise<number> {
    this.draining ??= this.drainAll().finally(() => { this.draining = undefined; });
    return this.draining;
  }

  private async drainAll(): Promise<number> {
    let written = 0;
    for (;;) {
      const batch = ((await this.o.redis.lpop(this.o.keys.libraryPending(), DRAIN_BATCH)) ?? []) as string[];
      if (batch.length === 0) return written;
      const jobs = batch.flatMap((raw) => { try { return [JSON.parse(raw) as StoredImage[]]; } catch { return []; } });
      try {
        await this.o.sink.record(jobs.flat());
        written += jobs.length;
      } catch (err) {
        await this.o.redis.rpush(this.o.keys.libraryPending(), ...batch);
        this.o.log.warn({ err, waiting: batch.length }, 'image index: still cannot write; will retry');
        return written;
      }
    }
  }

  start(): void {
    const tick = (): void => {
      this.drain().then((n) => { if (n > 0) this.o.log.info({ jobs: n }, 'image index: rows written that had waited'); })
        .catch((err: unknown) => this.o.log.warn({ err }, 'image index: could not read the waiting rows'));
    };
    tick();
    this.timer = setInterval(tick, this.o.retryMs ?? RETRY_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.draining?.catch(() => undefined);
  }
}
