/**
 * Queue one generation and post its status message. Every job gets a priority ≥ 1 (BullMQ runs the plain
 * wait list before any prioritised job, facts §3): the user's count of waiting jobs, so users take turns.
 */
import type { Redis } from 'ioredis';
import type { ChatAdapter, StatusView } from '../chat/types.js';
import type { Logger } from '../infra/logger.js';
import { newJobId } from '../jobs/job-id.js';
import type { Keys } from '../jobs/keys.js';
import { generateJobOptions, type Queues } from '../jobs/queues.js';
import type { ChargeInfo, GenerateJobData, GenerateParams, JobOrigin } from '../jobs/types.js';
import { fairRank } from './fair-share.js';
import { jobPriority, type Lane } from './priority.js';
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

export async function submitGeneration(d: SubmitDeps, origin: JobOrigin, params: GenerateParams, opts: SubmitOptions = {}): Promise<{ jobId: string }> {
  const jobId = opts.jobId ?? newJobId();
  const acceptedAt = Date.now();
  // Scheduled runs wait in their own lane, below people: they take no one's turn and count for no one.
  const lane = opts.lane ?? 'people';
  try {
    const rank = lane === 'people' ? await fairRank(d.redis, d.keys, origin, jobId, opts.weight) : null;
    await d.queues.generate.add('generate', { params, origin, acceptedAt, ...opts.extra, ...(opts.charge ? { charge: opts.charge } : {}) }, {
      ...generateJobOptions, jobId, priority: jobPriority(rank, lane),
    });
  } catch (err) {
    await d.redis.multi().srem(d.keys.userWaiting(origin.platform, origin.workspace, origin.user), jobId)
      .srem(d.keys.userUnranked(origin.platform, origin.workspace, origin.user), jobId).exec();
    throw err;
  }
  // The job is safe in Redis now; the status message follows. If posting fails, the tracker posts it later.
  const place = await quickPlace(d.redis, d.queues.generate, jobId).catch(() => null);
  // No place means a worker took the job already.
  const view: StatusView = place
    ? { phase: 'queued', jobId, position: place.position, total: place.total, etaMs: null }
    : { phase: 'generating', jobId, image: 1, count: params.count, step: 0, steps: params.steps };
  let message: string | undefined;
  try {
    message = await d.adapter.postStatus(origin.thread, view, origin.locale);
  } catch (err) {
    d.log.warn({ err, jobId }, 'could not post the status message; the tracker will retry');
  }
  await d.store.open({
    jobId, platform: origin.platform, workspace: origin.workspace, thread: origin.thread, locale: origin.locale, acceptedAt,
    params, origin, ...(message ? { message } : {}),
  });
  return { jobId };
}
