/**
 * Writing rows, on the bot's delivery path. Workers may run where the database is not (and PGlite serves
 * one process), so the worker only stores files (image, preview, sidecar) and the bot that delivers a job
 * writes its rows — one idempotent upsert per job, once the images are posted and before "Done" shows (a PGlite
 * query runs on the bot's thread: started alongside the post, it held the post back). A write that fails (the
 * database is restarting, the network is down) never holds a delivery back: the job's images go to a list in
 * Redis, and whichever bot can reach the database writes them later (every RETRY_MS), a batch at a time — job by
 * job when a batch fails, so that one job the database refuses holds back no other. A job refused for what its
 * rows hold (a value out of range, a constraint they break) can never be written: it is set aside in a bounded
 * list with one warning, never retried. `npm run index:backfill` rebuilds everything from the sidecars if all
 * else fails.
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
/** Refused jobs kept for a look (newest first; the oldest are dropped beyond). */
const REJECTED_MAX = 1_000;

/**
 * Whether the database refused rows for what they hold, so that writing them again can never succeed: SQLSTATE
 * classes 21 (cardinality: one upsert touching a row twice), 22 (data exception: a value out of range) and 23
 * (integrity constraint violation). Anything else — the database away or restarting, a connection lost, the
 * index not open — may pass, and the rows wait.
 */
export function refusedForContent(err: unknown): boolean {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' && /^2[123][0-9A-Z]{3}$/.test(code);
}

interface WaitingJob { raw: string; images: StoredImage[] }

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
      if (refusedForContent(err)) return this.setAside(images, err);
      this.o.log.warn({ err, jobId: images[0]!.metadata.jobId }, 'image index: could not write; will retry');
      await this.o.redis.multi().lpush(this.o.keys.libraryPending(), JSON.stringify(images)).ltrim(this.o.keys.libraryPending(), 0, PENDING_MAX - 1).exec()
        .catch((e: unknown) => this.o.log.error({ err: e, jobId: images[0]!.metadata.jobId }, 'image index: could not keep the rows for later; run npm run index:backfill'));
    }
  }

  /**
   * Write what is waiting; returns how many jobs were written. A job the database refuses is set aside; at the
   * first other failure the drain stops and the jobs not written stay waiting.
   */
  drain(): Promise<number> {
    this.draining ??= this.drainAll().finally(() => { this.draining = undefined; });
    return this.draining;
  }

  private async drainAll(): Promise<number> {
    let written = 0;
    for (;;) {
      const batch = ((await this.o.redis.lpop(this.o.keys.libraryPending(), DRAIN_BATCH)) ?? []) as string[];
      if (batch.length === 0) return written;
      const jobs = batch.flatMap((raw): WaitingJob[] => { try { return [{ raw, images: JSON.parse(raw) as StoredImage[] }]; } catch { return []; } });
      try {
        await this.o.sink.record(jobs.flatMap((j) => j.images));
        written += jobs.length;
        continue;
      } catch (err) {
        // The database away: everything waits. One job's rows (or one job delivered twice) can make the whole
        // upsert fail for what it holds: then job by job, so the others land.
        if (!refusedForContent(err)) {
          await this.keepWaiting(batch, err);
          return written;
        }
      }
      for (const [i, job] of jobs.entries()) {
        try {
          await this.o.sink.record(job.images);
          written++;
        } catch (err) {
          if (refusedForContent(err)) {
            await this.setAside(job.images, err);
            continue;
          }
          await this.keepWaiting(jobs.slice(i).map((j) => j.raw), err);
          return written;
        }
      }
    }
  }

  /** Put jobs back to wait for the next drain. */
  private async keepWaiting(raw: string[], err: unknown): Promise<void> {
    await this.o.redis.rpush(this.o.keys.libraryPending(), ...raw);
    this.o.log.warn({ err, waiting: raw.length }, 'image index: still cannot write; will retry');
  }

  /** A job whose rows the database refused: kept in a bounded list for a look, never retried. Never throws. */
  private async setAside(images: readonly StoredImage[], err: unknown): Promise<void> {
    const jobId = images[0]?.metadata.jobId;
    this.o.log.warn({ err, jobId, list: this.o.keys.libraryRejected() }, 'image index: the database refused this job\'s rows; set aside, not retried');
    const entry = JSON.stringify({ jobId, error: err instanceof Error ? err.message : String(err), at: new Date().toISOString(), images });
    await this.o.redis.multi().lpush(this.o.keys.libraryRejected(), entry).ltrim(this.o.keys.libraryRejected(), 0, REJECTED_MAX - 1).exec()
      .catch((e: unknown) => this.o.log.error({ err: e, jobId }, 'image index: could not set the refused rows aside; they are dropped'));
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
