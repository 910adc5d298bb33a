/**
 * One life for a job: the only place that starts one and the only place that decides how it ended.
 *
 * - submit: the job and its status record are written in one transaction (neither exists alone), then the
 *   status message is posted. A job that could not be written gives back what its admission took.
 * - end: delivered, failed, cancelled, blocked by the safety checker, or dead-lettered. The one refund rule: a
 *   job that delivered no image gives its charge back (once, however often its end is recorded). The final
 *   state goes to the status record, which the tracker then shows.
 * - cancel: a waiting job leaves the line at once; a running one is stopped between denoising steps by
 *   whichever worker holds it (its end then arrives as a CANCELLED failure).
 * - settle: for the tracker, a tracked job that is neither waiting nor running — its end is decided here too.
 *
 * Callers: the intake (submit), delivery (end), buttons (cancel), schedules (submit), the tracker (settle).
 */
import { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ChatAdapter, StatusView } from '../chat/types.js';
import type { ErrorCode } from '../errors.js';
import type { Logger } from '../infra/logger.js';
import type { QuotaService } from '../quota/service.js';
import { failureText, failureView } from '../status/failure.js';
import { PLACE_READS, placeOf, placeReadsIn, type QuickPlace } from '../status/quick-place.js';
import { decodeFailure } from './failure.js';
import { fairRank, leaveLine, type FairRank } from './fair-share.js';
import { newJobId } from './job-id.js';
import type { Keys } from './keys.js';
import { jobPriority, type Lane } from './priority.js';
import { generateJobOptions, type Queues } from './queues.js';
import type { StatusRecord, StatusStore } from './status-store.js';
import type { ChargeInfo, GenerateJobData, GenerateParams, JobOrigin } from './types.js';

/** How long a failed job may wait for its failure delivery before its end is decided without it. */
const FAILURE_GRACE_MS = 5000;

/** How a job ended. */
export type JobEnd =
  | { kind: 'delivered'; images: number; totalMs: number }
  | { kind: 'failed'; code: ErrorCode }
  /** The safety checker flagged the image: nothing was posted. */
  | { kind: 'blocked' }
  | { kind: 'cancelled' }
  | { kind: 'dead_lettered' };

export interface SubmitOptions {
  /** The id admission charged under. */
  jobId?: string;
  /** The requester's share of turns (role policy). */
  weight?: number;
  /** The place in line admission took with the charge (one round trip less); ranked here when absent. */
  rank?: FairRank;
  lane?: Lane;
  charge?: ChargeInfo;
  /** Template provenance and post-processing. */
  extra?: Pick<GenerateJobData, 'template' | 'post'>;
}

export interface LifecycleDeps {
  redis: Redis;
  keys: Keys;
  queues: Queues;
  store: StatusStore;
  quota: QuotaService;
  adapters: ReadonlyMap<string, ChatAdapter>;
  log: Logger;
  /** A final state was recorded: the tracker shows it without waiting for its next tick. */
  onEnded?: () => void;
}

export type CancelOutcome = 'cancelled' | 'cancelling' | 'finished' | 'not_yours';

export class JobLifecycle {
  constructor(private readonly d: LifecycleDeps) {}

  /**
   * Queue one generation and post its status message. If this throws, the job was not written and what the
   * request took (its place in line, its charge) has been given back — now, or once Redis answers again.
   * Once the job is written it does not throw: the tracker posts a status message that could not be posted.
   */
  async submit(origin: JobOrigin, params: GenerateParams, o: SubmitOptions = {}): Promise<{ jobId: string }> {
    const jobId = o.jobId ?? newJobId();
    let written: { first: boolean; place: QuickPlace | null };
    try {
      written = await this.write(jobId, origin, params, o);
    } catch (err) {
      await this.d.quota.refundOrDefer(jobId, async () => !(await this.d.store.exists(jobId)), () => this.unqueue(origin, jobId))
        .catch((e: unknown) => this.d.log.warn({ err: e, jobId }, 'could not give back what a job that was not written took'));
      throw err;
    }
    // Submitting the same job again (a retried call) changes nothing and posts nothing a second time.
    if (written.first) await this.postStatus(jobId, origin, params, written.place);
    return { jobId };
  }

  /**
   * Write the job and its record in one transaction, which also reads the job's place in line (null: a worker
   * has it already); `first` is false when this job had been written before.
   */
  private async write(jobId: string, origin: JobOrigin, params: GenerateParams, o: SubmitOptions): Promise<{ first: boolean; place: QuickPlace | null }> {
    const acceptedAt = Date.now();
    // Scheduled runs wait in their own lane, below people: they take no one's turn and count for no one.
    const lane = o.lane ?? 'people';
    const rank = lane === 'people' ? (o.rank ?? await fairRank(this.d.redis, this.d.keys, origin, jobId, o.weight)) : null;
    const queue = this.d.queues.generate;
    const data: GenerateJobData = { params, origin, acceptedAt, ...o.extra, ...(o.charge ? { charge: o.charge } : {}) };
    const job = new Job(queue, 'generate', data, { ...generateJobOptions, jobId, priority: jobPriority(rank, lane) }, jobId);
    const tx = (await queue.getBackend().client).multi();
    this.d.store.claimIn(tx, jobId, acceptedAt);
    await job.addJob(tx);
    this.d.store.openIn(tx, {
      jobId, platform: origin.platform, workspace: origin.workspace, thread: origin.thread, locale: origin.locale, acceptedAt, params, origin,
    });
    placeReadsIn(tx, queue, jobId);
    const results = await tx.exec();
    if (!results) throw new Error('the job transaction was discarded');
    const writes = results.slice(0, -PLACE_READS);
    const reads = results.slice(-PLACE_READS);
    for (const [err] of writes) if (err) throw err;
    // The job is written whatever its place reads answered: without a place, the status message says "generating".
    const place = reads.some(([err]) => err) ? null : placeOf(reads.map((r) => r[1]));
    return { first: results[0]![1] === 1, place };
  }

  /**
   * An admitted job that will not be submitted after all (nowhere to post it): its charge and its place in line
   * go back — now, or once Redis answers again.
   */
  async abandon(origin: Pick<JobOrigin, 'platform' | 'workspace' | 'user'>, jobId: string): Promise<void> {
    await this.d.quota.refundOrDefer(jobId, async () => true, () => leaveLine(this.d.redis, this.d.keys, origin, jobId));
  }

  /** Give back the waiting entries (fair-share.ts and the charge script) of a job that was not written. */
  private async unqueue(origin: JobOrigin, jobId: string): Promise<void> {
    await leaveLine(this.d.redis, this.d.keys, origin, jobId);
  }

  private async postStatus(jobId: string, origin: JobOrigin, params: GenerateParams, place: QuickPlace | null): Promise<void> {
    const adapter = this.d.adapters.get(origin.platform);
    try {
      if (!adapter) throw new Error(`platform ${origin.platform} is not configured in this bot`);
      // No place means a worker took the job already.
      const view: StatusView = place
        ? { phase: 'queued', jobId, position: place.position, total: place.total, etaMs: null }
        : { phase: 'generating', jobId, image: 1, count: params.count, step: 0, steps: params.steps };
      const message = await adapter.postStatus(origin.thread, view, origin.locale);
      await this.d.store.setMessage(jobId, message);
    } catch (err) {
      this.d.log.warn({ err, jobId }, 'could not post the status message; the tracker will retry');
    }
  }

  /**
   * Record how a job ended and give back its charge unless it delivered an image. Idempotent: recording an
   * end again changes nothing but the view (the refund happens once). Returns the final view.
   */
  async end(jobId: string, end: JobEnd, fallback: Omit<StatusRecord, 'final' | 'message'>): Promise<StatusView> {
    const view = viewOf(jobId, end, fallback.locale);
    if (end.kind !== 'delivered') await this.d.quota.refund(jobId);
    await this.d.store.finish(jobId, view, fallback);
    this.d.onEnded?.();
    return view;
  }

  /**
   * An end inferred from the queue (see settle): recorded only if no end was recorded meanwhile — delivery may
   * have recorded the real one while the tracker was looking. Returns the view to show (null: look again).
   */
  private async inferEnd(jobId: string, end: JobEnd, rec: StatusRecord): Promise<StatusView | null> {
    const view = viewOf(jobId, end, rec.locale);
    if (!(await this.d.store.finish(jobId, view, rec, { onlyIfOpen: true }))) return null;
    if (end.kind !== 'delivered') await this.d.quota.refund(jobId);
    this.d.onEnded?.();
    return view;
  }

  /**
   * Cancel a job for someone (the requester, or a manager: `mayCancelOthers`). A waiting job leaves the line at
   * once and ends cancelled; a running one is asked to stop (its worker reports the end).
   */
  async cancel(jobId: string, origin: JobOrigin, by: { user: string; mayCancelOthers: () => Promise<boolean> }): Promise<CancelOutcome> {
    if (origin.user !== by.user && !(await by.mayCancelOthers())) return 'not_yours';
    const job = await this.d.queues.generate.getJob(jobId);
    const state = job ? await job.getState() : 'unknown';
    if ((state === 'waiting' || state === 'prioritized' || state === 'delayed') && (await this.d.queues.generate.remove(jobId)) === 1) {
      await this.unqueue(origin, jobId);
      await this.end(jobId, { kind: 'cancelled' }, { ...origin, jobId, acceptedAt: job?.timestamp ?? Date.now() });
      this.d.log.info({ jobId, user: by.user }, 'cancelled while queued');
      return 'cancelled';
    }
    if (state === 'active' || state === 'waiting' || state === 'prioritized') {
      // Running (or started between the two reads): the worker holding it stops between steps.
      await this.d.redis.publish(this.d.keys.cancelChannel(), jobId);
      this.d.log.info({ jobId, user: by.user }, 'cancel relayed to workers');
      return 'cancelling';
    }
    return 'finished';
  }

  /**
   * A tracked job that is neither waiting nor running: finished (its delivery is on the way), retrying, failed
   * (its failure delivery is on the way, or never came: the worker died at its last attempt), or gone
   * (removed without an end recorded). The view to show, and — when its end is decided here — the end recorded.
   */
  async settle(jobId: string, rec: StatusRecord, now = Date.now()): Promise<StatusView | null> {
    const job = await this.d.queues.generate.getJob(jobId);
    const state = job ? await job.getState() : 'unknown';
    if (state === 'completed') return { phase: 'finishing', jobId };
    if (state === 'delayed' || state === 'waiting' || state === 'prioritized' || state === 'active') {
      return { phase: 'queued', jobId, position: 0, total: 0, etaMs: null };
    }
    if (state === 'failed') {
      if (job?.finishedOn && now - job.finishedOn < FAILURE_GRACE_MS) return null;
      const failure = decodeFailure(job?.failedReason);
      this.d.log.warn({ jobId, code: failure.code, detail: failure.detail }, 'job failed without its failure delivery; ending it');
      return this.inferEnd(jobId, endOfFailure(failure.code), rec);
    }
    return this.inferEnd(jobId, { kind: 'cancelled' }, rec);
  }
}

/** The final view of an end. */
export function viewOf(jobId: string, end: JobEnd, locale: string): StatusView {
  switch (end.kind) {
    case 'delivered': return { phase: 'done', jobId, images: end.images, totalMs: end.totalMs };
    case 'cancelled': return { phase: 'cancelled', jobId };
    case 'failed': return failureView(jobId, { code: end.code }, locale);
    case 'blocked': return failureView(jobId, { code: 'SAFETY_BLOCKED' }, locale);
    case 'dead_lettered': return { phase: 'failed', jobId, reason: failureText('DELIVERY_FAILED', jobId, locale) };
  }
}

/** The end a failure code means. */
export function endOfFailure(code: ErrorCode): JobEnd {
  if (code === 'CANCELLED') return { kind: 'cancelled' };
  if (code === 'SAFETY_BLOCKED') return { kind: 'blocked' };
  return { kind: 'failed', code };
}
