/**
 * The bot side of `deliver`: posts a finished job's images into its thread (each image once, even when a
 * delivery is retried), then records how the job ended through the job lifecycle (src/jobs/lifecycle.ts). Platform errors throw, so
 * BullMQ retries with backoff; nothing is lost while the bot is down because the job waits in Redis.
 * Most deliveries arrive through the fast lane (fast-lane.ts, handoff.ts) and run `deliver` directly; the
 * `deliver` job is then only the durable fallback and finds the work done.
 */
import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import { describeError, isPermanent } from '../errors.js';
import type { Redis } from 'ioredis';
import type { AssetStore } from '../assets/asset-store.js';
import type { ChatAdapter } from '../chat/types.js';
import type { Logger } from '../infra/logger.js';
import { isRedisUnavailable } from '../infra/redis-health.js';
import type { DeliveryPath, ObservabilityHooks } from '../jobs/hooks.js';
import { deliveryBackoff } from './backoff.js';
import type { Keys } from '../jobs/keys.js';
import { DELIVER_QUEUE } from '../jobs/queues.js';
import type { DeliverJobData, StoredImage } from '../jobs/types.js';
import { t } from '../i18n/index.js';
import { endOfFailure, type JobEnd, type JobLifecycle } from '../jobs/lifecycle.js';
import type { StatusStore } from '../jobs/status-store.js';

const DELIVERED_TTL_S = 7 * 24 * 3600;
/** How long the durable job waits before looking again while the fast lane holds a delivery. */
const LEASE_RECHECK_MS = 5000;

export interface DeliverDeps {
  connection: Redis;
  prefix: string;
  keys: Keys;
  store: StatusStore;
  lifecycle: JobLifecycle;
  assets: AssetStore;
  adapters: ReadonlyMap<string, ChatAdapter>;
  hooks?: ObservabilityHooks;
  log: Logger;
  concurrency?: number;
  /** The image index (src/library/index-writer.ts): a delivered job's rows are written as its images are posted. */
  index?: { record(images: readonly StoredImage[]): Promise<void> };
}

export class DeliverWorker {
  private worker: Worker<DeliverJobData> | undefined;
  constructor(private readonly d: DeliverDeps) {}

  async start(): Promise<void> {
    this.worker = new Worker<DeliverJobData>(DELIVER_QUEUE, (job, token) => this.process(job, token), {
      connection: this.d.connection, prefix: this.d.prefix, concurrency: this.d.concurrency ?? 8,
      settings: { backoffStrategy: deliveryBackoff },
    });
    this.worker.on('error', (err) => { if (!isRedisUnavailable(err)) this.d.log.warn({ err }, 'deliver worker error'); });
    this.worker.on('failed', (job, err) => { if (job) void this.failed(job, err); });
    await this.worker.waitUntilReady();
  }

  /** Let running jobs finish and close; `force` (Redis unreachable): close without waiting for them or for Redis. */
  async stop(force = false): Promise<void> {
    await this.worker?.close(force);
  }

  /** A delivery attempt failed: BullMQ retries it with backoff; after the last attempt it is dead-lettered. */
  private async failed(job: Job<DeliverJobData>, err: Error): Promise<void> {
    const final = job.attemptsMade >= (job.opts.attempts ?? 1) || err.name === 'UnrecoverableError';
    await this.recordFailure(job.data, { deliveryId: job.id ?? '', attemptsMade: job.attemptsMade, queuedAt: job.timestamp }, err, final);
  }

  /**
   * Count a failed attempt; a final one goes to the dead letters and ends the job (the charge goes back, and
   * the requester is told — the tracker keeps trying that edit while the platform is away). Never throws.
   */
  async recordFailure(data: DeliverJobData, at: { deliveryId: string; attemptsMade: number; queuedAt: number }, err: unknown, final: boolean): Promise<void> {
    const { jobId, origin } = data;
    this.d.log.warn({ err, jobId, user: origin.user, platform: origin.platform, attempt: at.attemptsMade, final }, final ? 'delivery failed for good' : 'delivery failed; will retry');
    try {
      await this.d.hooks?.deliveryFailed({ data, deliveryId: at.deliveryId, attemptsMade: at.attemptsMade, error: err, final });
      if (!final) return;
      const rec = await this.d.store.get(jobId);
      await this.d.lifecycle.end(jobId, { kind: 'dead_lettered' }, {
        jobId, platform: origin.platform, workspace: origin.workspace, thread: origin.thread, locale: origin.locale, acceptedAt: rec?.acceptedAt ?? at.queuedAt,
      });
    } catch (e) {
      this.d.log.warn({ err: e, jobId }, 'could not record the failed delivery');
    }
  }

  /** True when this job's failure was already reported (a retried delivery must not report twice). */
  private async alreadyReported(jobId: string): Promise<boolean> {
    return (await this.d.connection.set(`${this.d.keys.delivered(jobId)}:reported`, '1', 'EX', DELIVERED_TTL_S, 'NX')) !== 'OK';
  }

  /** The durable path: skipped when the fast lane finished this delivery, postponed while it holds it. */
  async process(job: Job<DeliverJobData>, token?: string): Promise<void> {
    const { jobId } = job.data;
    const [[, done], [, lease]] = (await this.d.connection.multi()
      .exists(this.d.keys.deliveryDone(jobId)).get(this.d.keys.deliveryLease(jobId)).exec()) as [[null, number], [null, string | null]];
    if (done) return;
    if (lease && token) {
      await job.moveToDelayed(Date.now() + LEASE_RECHECK_MS, token);
      throw new DelayedError();
    }
    try {
      await this.deliver(job.data, { queuedAt: job.timestamp, firstRun: false, path: 'queue' });
    } catch (err) {
      // A refusal that trying again cannot change (the bot is out of the channel, the platform rejects the
      // message) is final now, not after an hour of retries.
      throw isPermanent(err) ? new UnrecoverableError(describeError(err)) : err;
    }
  }

  /**
   * Post the images (each once) and record the final state. `firstRun` (the fast lane's single run of a
   * delivery) skips reading which images were posted already: nothing can have been.
   */
  async deliver(data: DeliverJobData, o: { queuedAt: number; firstRun: boolean; path: DeliveryPath }): Promise<void> {
    const { origin, jobId } = data;
    const adapter = this.d.adapters.get(origin.platform);
    if (!adapter) throw new Error(`platform ${origin.platform} is not configured in this bot`);
    // The record is read alongside the posting: this is on the user's critical path.
    const recP = this.d.store.get(jobId).catch(() => null);
    let end: JobEnd;
    if (data.kind === 'result') {
      const deliveredKey = this.d.keys.delivered(jobId);
      for (const image of data.images) {
        if (!o.firstRun && await this.d.connection.sismember(deliveredKey, String(image.metadata.index))) continue;
        await adapter.postImage(origin.thread, { read: () => this.d.assets.get(image.key), filename: `${jobId}-${image.metadata.index}.png`, metadata: image.metadata, assetKey: image.key }, origin.locale);
        await this.d.connection.multi().sadd(deliveredKey, String(image.metadata.index)).expire(deliveredKey, DELIVERED_TTL_S).exec();
      }
      // One idempotent write of the job's rows (it never throws: see IndexWriter) once the images are posted —
      // a PGlite query runs on this thread and would hold back the post — and before "Done" shows.
      await this.d.index?.record(data.images);
      end = { kind: 'delivered', images: data.images.length, totalMs: Math.max(0, Date.now() - ((await recP)?.acceptedAt ?? o.queuedAt)) };
    } else {
      end = endOfFailure(data.code);
      // The detail (what the engine said) is for operators; people see the code's plain words and a reference.
      if (end.kind === 'failed') this.d.log.warn({ jobId, code: data.code, detail: data.detail }, 'generation failed');
    }
    const acceptedAt = (await recP)?.acceptedAt ?? o.queuedAt;
    const view = await this.d.lifecycle.end(jobId, end, {
      jobId, platform: origin.platform, workspace: origin.workspace, thread: origin.thread, locale: origin.locale, acceptedAt,
    });
    if (view.phase === 'failed' && origin.schedule && !(await this.alreadyReported(jobId))) {
      await adapter.reply(origin.thread, t(origin.locale, 'schedules.run_failed', { owner: origin.userName ?? origin.user, id: origin.schedule.id, reason: view.reason }));
    }
    await this.d.connection.set(this.d.keys.deliveryDone(jobId), '1', 'EX', DELIVERED_TTL_S);
    await this.d.hooks?.jobEnded(data, acceptedAt, o.path).catch(() => undefined);
    this.d.log.info({ jobId, user: origin.user, platform: origin.platform, kind: data.kind }, 'delivered');
  }
}
