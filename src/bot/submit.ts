/**
 * Queue one generation and post its status message. Every job gets a priority ≥ 1 (BullMQ runs the plain
 * wait list before any prioritised job, facts §3): its owner's fair-share rank (fair-share.ts).
 *
 * The job and its status record are written in one transaction, so neither exists without the other. If
 * `submitGeneration` throws, the job was not written and the caller gives back what the request took (`unqueue`,
 * the charge); once the job is written it never throws: the status message follows, and if it cannot be posted
 * now the tracker posts it later.
 */
import { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ChatAdapter, StatusView } from '../chat/types.js';
import type { Logger } from '../infra/logger.js';
import { newJobId } from '../jobs/job-id.js';
import type { Keys } from '../jobs/keys.js';
import { generateJobOptions, type Queues } from '../jobs/queues.js';
import type { ChargeInfo, GenerateJobData, GenerateParams, JobOrigin } from '../jobs/types.js';
import { fairRank } from '../jobs/fair-share.js';
import { jobPriority, type Lane } from '../jobs/priority.js';
import { quickPlace } from '../status/quick-place.js';
import type { StatusStore } from '../status/status-store.js';

export interface SubmitDeps {
  redis: Redis;
  keys: Keys;
  queues: Queues;
  store: StatusStore;
  adapter: ChatAdapter;
  log: Logger;
}

export interface SubmitOptions {
  /** Pre-assigned id (e.g. the id quota was reserved under). */
  jobId?: string;
  /** The requester's share of turns (role policy). */
  weight?: number;
  lane?: Lane;
  charge?: ChargeInfo;
  /** Template provenance and post-processing. */
  extra?: Pick<GenerateJobData, 'template' | 'post'>;
}

/** Give back the waiting entries (see fair-share.ts and the charge script) of a job `submitGeneration` could not write. */
export async function unqueue(d: Pick<SubmitDeps, 'redis' | 'keys'>, origin: JobOrigin, jobId: string): Promise<void> {
  await d.redis.multi().srem(d.keys.userWaiting(origin.platform, origin.workspace, origin.user), jobId)
    .srem(d.keys.userUnranked(origin.platform, origin.workspace, origin.user), jobId).exec();
}

export async function submitGeneration(d: SubmitDeps, origin: JobOrigin, params: GenerateParams, opts: SubmitOptions = {}): Promise<{ jobId: string }> {
  const jobId = opts.jobId ?? newJobId();
  const acceptedAt = Date.now();
  // Scheduled runs wait in their own lane, below people: they take no one's turn and count for no one.
  const lane = opts.lane ?? 'people';
  const rank = lane === 'people' ? await fairRank(d.redis, d.keys, origin, jobId, opts.weight) : null;
  const queue = d.queues.generate;
  const data: GenerateJobData = { params, origin, acceptedAt, ...opts.extra, ...(opts.charge ? { charge: opts.charge } : {}) };
  const job = new Job(queue, 'generate', data, { ...generateJobOptions, jobId, priority: jobPriority(rank, lane) }, jobId);
  const tx = (await queue.getBackend().client).multi();
  await job.addJob(tx);
  d.store.openIn(tx, {
    jobId, platform: origin.platform, workspace: origin.workspace, thread: origin.thread, locale: origin.locale, acceptedAt, params, origin,
  });
  const results = await tx.exec();
  if (!results) throw new Error('the job transaction was discarded');
  for (const [err] of results) if (err) throw err;
  try {
    // No place means a worker took the job already.
    const place = await quickPlace(d.redis, queue, jobId).catch(() => null);
    const view: StatusView = place
      ? { phase: 'queued', jobId, position: place.position, total: place.total, etaMs: null }
      : { phase: 'generating', jobId, image: 1, count: params.count, step: 0, steps: params.steps };
    const message = await d.adapter.postStatus(origin.thread, view, origin.locale);
    await d.store.setMessage(jobId, message);
  } catch (err) {
    d.log.warn({ err, jobId }, 'could not post the status message; the tracker will retry');
  }
  return { jobId };
}
