/**
 * The job lifecycle (src/jobs/lifecycle.ts) on a real Redis and real BullMQ queues: the order of submit,
 * every end state with the one refund rule (once, however often an end is recorded), cancel, and what the
 * tracker's settle decides — never over an end that delivery recorded meanwhile. The chat platform is a
 * recording stand-in for the ChatAdapter port (it is the only remote side here).
 */
import { randomBytes } from 'node:crypto';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ChatAdapter, StatusView } from '../../src/chat/types.js';
import { createLogger } from '../../src/infra/logger.js';
import { createRedis } from '../../src/infra/redis.js';
import { newJobId } from '../../src/jobs/job-id.js';
import { Keys } from '../../src/jobs/keys.js';
import { JobLifecycle } from '../../src/jobs/lifecycle.js';
import { jobPriority } from '../../src/jobs/priority.js';
import { GENERATE_QUEUE, openQueues, type Queues } from '../../src/jobs/queues.js';
import { StatusStore } from '../../src/jobs/status-store.js';
import type { GenerateParams, JobOrigin } from '../../src/jobs/types.js';
import { QuotaPolicy, quotaSchema } from '../../src/quota/policy.js';
import { QuotaService } from '../../src/quota/service.js';
import { REDIS_URL } from '../helpers/harness.js';
import { encodeFailure } from '../../src/jobs/failure.js';

const log = createLogger('silent');
const params: GenerateParams = { prompt: 'a kite', width: 256, height: 256, steps: 2, seed: 1, count: 1 };

/** The platform: records what the lifecycle posted, and what the job looked like at that moment. */
class RecordingPlatform implements ChatAdapter {
  readonly platform = 'test';
  readonly pacing = { minIntervalMs: 0, perWorkspacePerMinute: 1000 };
  readonly posted: Array<{ thread: string; view: StatusView; jobExisted: boolean; recordExisted: boolean }> = [];
  failPosts = false;
  constructor(private readonly queues: () => Queues, private readonly store: () => StatusStore) {}
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  async reply(): Promise<string> { return 'r'; }
  async postStatus(thread: string, view: StatusView): Promise<string> {
    if (this.failPosts) throw new Error('platform down');
    this.posted.push({ thread, view, jobExisted: Boolean(await this.queues().generate.getJob(view.jobId)), recordExisted: await this.store().exists(view.jobId) });
    return `msg-${view.jobId}`;
  }
  async updateStatus(): Promise<void> {}
  async postImage(): Promise<void> {}
}

let redis: Redis;
let keys: Keys;
let queues: Queues;
let store: StatusStore;
let quota: QuotaService;
let platform: RecordingPlatform;
let lifecycle: JobLifecycle;
let ended = 0;

beforeAll(() => { redis = createRedis(REDIS_URL(), 'job-lifecycle-test'); });
afterAll(async () => { await queues?.close(); await redis?.quit(); });
beforeEach(async () => {
  await queues?.close();
  keys = new Keys(`jl${randomBytes(4).toString('hex')}`);
  queues = openQueues(redis, keys.prefix);
  store = new StatusStore(redis, keys);
  const policy = new QuotaPolicy(quotaSchema.parse({ default: '10/day' }));
  quota = new QuotaService(redis, keys, () => policy, new Map(), log);
  platform = new RecordingPlatform(() => queues, () => store);
  ended = 0;
  lifecycle = new JobLifecycle({ redis, keys, queues, store, quota, adapters: new Map([['test', platform]]), log, onEnded: () => { ended++; } });
});

const who = { platform: 'test', workspace: 'W', user: 'ann' };
const originOf = (): JobOrigin => ({ ...who, channel: 'C', channelKind: 'public', thread: 'test:thread', locale: 'en', eventId: `e${randomBytes(3).toString('hex')}` });

/** A charged job, as admission leaves it. */
async function admitted(): Promise<string> {
  const jobId = newJobId();
  const res = await quota.reserve(jobId, who, 'C', 1);
  expect(res.outcome).toBe('charged');
  return jobId;
}

const used = async (): Promise<number> => (await quota.standing(who)).used;

/** Take the next job as a worker would (so it can be failed or completed). */
async function take(): Promise<{ job: Job; token: string }> {
  const worker = new Worker(GENERATE_QUEUE, null, { connection: redis, prefix: keys.prefix, autorun: false });
  const token = `t${randomBytes(4).toString('hex')}`;
  const job = (await worker.getNextJob(token, { block: false })) as Job;
  await worker.close();
  expect(job).toBeDefined();
  return { job, token };
}
const fallbackOf = (jobId: string) => ({ jobId, platform: 'test', workspace: 'W', thread: 'test:thread', locale: 'en', acceptedAt: Date.now() });

describe('submit', () => {
  it('writes the job and its record together, then posts the status message (never before), and only once', async () => {
    const jobId = await admitted();
    const origin = originOf();
    await lifecycle.submit(origin, params, { jobId });
    expect(platform.posted).toHaveLength(1);
    expect(platform.posted[0]).toMatchObject({ jobExisted: true, recordExisted: true, view: { phase: 'queued', position: 1, total: 1 } });
    expect((await store.get(jobId))?.message).toBe(`msg-${jobId}`);
    // The same submit again (a retried call): one job, one record, nothing posted again.
    await lifecycle.submit(origin, params, { jobId });
    expect(platform.posted).toHaveLength(1);
    expect(await queues.generate.count()).toBe(1);
  });

  it('a status message the platform refuses is left to the tracker; the job stands', async () => {
    platform.failPosts = true;
    const jobId = await admitted();
    await lifecycle.submit(originOf(), params, { jobId });
    expect(await queues.generate.getJob(jobId)).toBeDefined();
    expect((await store.get(jobId))?.message).toBeUndefined();
    expect(await used()).toBe(1);
  });

  it('a job that cannot be written gives its charge back (and posts nothing)', async () => {
    const jobId = await admitted();
    // A wrong-typed key where the person's place in line goes makes the write fail before the job exists.
    await redis.set(keys.userWaiting('test', 'W', 'ann'), 'not a set');
    await expect(lifecycle.submit(originOf(), params, { jobId })).rejects.toThrow(/WRONGTYPE/);
    expect(await queues.generate.count()).toBe(0);
    expect(await used()).toBe(0);
    expect(platform.posted).toHaveLength(0);
  });
});

describe('a place in line taken with the charge', () => {
  const bob = { ...who, user: 'bob' };

  it('the charge ranks the job in the same step (as ranking at submit would); submit uses that rank and ranks nothing more', async () => {
    const a1 = await quota.reserve(newJobId(), who, 'C', 1);
    const a2 = await quota.reserve(newJobId(), who, 'C', 1);
    const b1 = await quota.reserve(newJobId(), bob, 'C', 1);
    expect([a1.rank, a2.rank, b1.rank]).toEqual([{ round: 1, slot: 1 }, { round: 2, slot: 1 }, { round: 1, slot: 2 }]);
    const jobId = newJobId();
    const charged = await quota.reserve(jobId, bob, 'C', 1);
    expect(charged.rank).toEqual({ round: 2, slot: 2 });
    // Charged again (a retried call): charged before, so no second place in line.
    expect((await quota.reserve(jobId, bob, 'C', 1)).rank).toBeUndefined();
    const levels = async () => redis.zrange(keys.workspaceLevels('test', 'W'), '0', '-1', 'WITHSCORES');
    const before = await levels();
    await lifecycle.submit({ ...originOf(), user: 'bob' }, params, { jobId, rank: charged.rank! });
    expect(await levels()).toEqual(before);
    expect((await queues.generate.getJob(jobId))?.opts.priority).toBe(jobPriority(charged.rank!));
  });

  it('every key a charge writes expires (refreshing only what a first write created, nothing kept forever)', async () => {
    for (let i = 0; i < 3; i++) for (const p of [who, bob]) await quota.reserve(newJobId(), p, i === 2 ? 'D' : 'C', 1);
    const written = await redis.keys(`${keys.root}*`);
    expect(written.length).toBeGreaterThan(10);
    const ttls = await Promise.all(written.map(async (k) => [k, await redis.ttl(k)] as const));
    expect(ttls.filter(([, ttl]) => ttl <= 0)).toEqual([]);
  });

  it('a refused charge takes no place in line', async () => {
    const tight = new QuotaService(redis, keys, () => new QuotaPolicy(quotaSchema.parse({ default: '1/day' })), new Map(), log);
    expect((await tight.reserve(newJobId(), who, 'C', 1)).rank).toEqual({ round: 1, slot: 1 });
    const refused = await tight.reserve(newJobId(), who, 'C', 1);
    expect(refused).toMatchObject({ outcome: 'refused' });
    expect(refused.rank).toBeUndefined();
    expect((await tight.reserve(newJobId(), bob, 'C', 1)).rank).toEqual({ round: 1, slot: 2 });
  });

  it('an admitted job abandoned before submit gives back its charge and its place in line', async () => {
    const jobId = newJobId();
    expect((await quota.reserve(jobId, who, 'C', 1)).rank).toEqual({ round: 1, slot: 1 });
    await lifecycle.abandon(who, jobId);
    expect(await used()).toBe(0);
    expect((await quota.reserve(newJobId(), who, 'C', 1)).rank?.round).toBe(1);
  });
});

describe('end: one refund rule', () => {
  it.each([
    ['delivered', { kind: 'delivered', images: 1, totalMs: 900 } as const, 1, { phase: 'done', images: 1, totalMs: 900 }],
    ['failed', { kind: 'failed', code: 'GENERATION_FAILED' } as const, 0, { phase: 'failed' }],
    ['blocked', { kind: 'blocked' } as const, 0, { phase: 'failed', reason: expect.stringContaining('safety check') }],
    ['cancelled', { kind: 'cancelled' } as const, 0, { phase: 'cancelled' }],
    ['dead-lettered', { kind: 'dead_lettered' } as const, 0, { phase: 'failed', reason: expect.stringContaining('could not be posted') }],
  ])('%s: the final state is recorded (the tracker is told) and the charge goes back unless an image was delivered', async (_name, end, usedAfter, view) => {
    const jobId = await admitted();
    await lifecycle.submit(originOf(), params, { jobId });
    const shown = await lifecycle.end(jobId, end, fallbackOf(jobId));
    expect(shown).toMatchObject(view);
    expect((await store.get(jobId))?.final).toEqual(shown);
    expect(ended).toBe(1);
    expect(await used()).toBe(usedAfter);
    // Recorded again (a retried delivery): nothing more is given back.
    await lifecycle.end(jobId, end, fallbackOf(jobId));
    expect(await used()).toBe(usedAfter);
  });

  it('a failure is worded without the engine text, with the job as its reference', async () => {
    const jobId = await admitted();
    const view = await lifecycle.end(jobId, { kind: 'failed', code: 'GENERATION_FAILED' }, fallbackOf(jobId));
    expect(view).toEqual({ phase: 'failed', jobId, reason: `the image could not be generated; please try again, and tell an administrator if it keeps failing (reference ${jobId})` });
  });

  it('a failure recorded after a cancel replaces it and refunds nothing more', async () => {
    const jobId = await admitted();
    await lifecycle.end(jobId, { kind: 'cancelled' }, fallbackOf(jobId));
    await lifecycle.end(jobId, { kind: 'failed', code: 'ENGINE_DISPOSED' }, fallbackOf(jobId));
    expect((await store.get(jobId))?.final).toMatchObject({ phase: 'failed' });
    expect(await used()).toBe(0);
  });
});

describe('cancel', () => {
  it('a waiting job leaves the line at once and ends cancelled; someone else may not; a finished one is finished', async () => {
    const jobId = await admitted();
    const origin = originOf();
    await lifecycle.submit(origin, params, { jobId });
    const notManager = { mayCancelOthers: async () => false };
    expect(await lifecycle.cancel(jobId, origin, { user: 'mallory', ...notManager })).toBe('not_yours');
    expect(await queues.generate.count()).toBe(1);
    expect(await lifecycle.cancel(jobId, origin, { user: 'ann', ...notManager })).toBe('cancelled');
    expect(await queues.generate.count()).toBe(0);
    expect((await store.get(jobId))?.final).toEqual({ phase: 'cancelled', jobId });
    expect(await used()).toBe(0);
    expect(await redis.sismember(keys.userWaiting('test', 'W', 'ann'), jobId)).toBe(0);
    expect(await lifecycle.cancel(jobId, origin, { user: 'ann', ...notManager })).toBe('finished');
    // A manager may cancel someone else's.
    const other = await admitted();
    await lifecycle.submit(origin, params, { jobId: other });
    expect(await lifecycle.cancel(other, origin, { user: 'boss', mayCancelOthers: async () => true })).toBe('cancelled');
  });
});

describe('settle (a tracked job no longer in the line)', () => {
  it('failed at its last attempt with no failure delivery: after the grace, failed with its code; before it, not yet', async () => {
    const jobId = await admitted();
    await lifecycle.submit(originOf(), params, { jobId });
    // What a worker leaves behind when it fails the job at its last attempt and dies before handing the failure over.
    const { job, token } = await take();
    await job.moveToFailed(new UnrecoverableError(encodeFailure({ code: 'MODEL_INVALID', detail: 'graph broken' })), token, false);
    const rec = (await store.get(jobId))!;
    const finishedOn = (await queues.generate.getJob(jobId))!.finishedOn!;
    expect(await lifecycle.settle(jobId, rec, finishedOn + 1000)).toBeNull();
    expect(await used()).toBe(1);
    const view = await lifecycle.settle(jobId, rec, finishedOn + 6000);
    expect(view).toMatchObject({ phase: 'failed', reason: expect.stringContaining('model files are missing or damaged') });
    expect(await used()).toBe(0);
  });

  it('gone from the queue without an end: cancelled; but an end delivery recorded meanwhile stands', async () => {
    const a = await admitted();
    await lifecycle.submit(originOf(), params, { jobId: a });
    await queues.generate.remove(a);
    expect(await lifecycle.settle(a, (await store.get(a))!)).toEqual({ phase: 'cancelled', jobId: a });
    expect(await used()).toBe(0);

    const b = await admitted();
    await lifecycle.submit(originOf(), params, { jobId: b });
    const stale = (await store.get(b))!; // what the tracker read before delivery ended it
    await queues.generate.remove(b);
    await lifecycle.end(b, { kind: 'failed', code: 'SAFETY_BLOCKED' }, fallbackOf(b));
    expect(await lifecycle.settle(b, stale)).toBeNull();
    expect((await store.get(b))?.final).toMatchObject({ phase: 'failed', reason: expect.stringContaining('safety') });
  });

  it('completed (its delivery is on the way): finishing, nothing recorded', async () => {
    const jobId = await admitted();
    await lifecycle.submit(originOf(), params, { jobId });
    const { job, token } = await take();
    await job.moveToCompleted({ images: [] }, token, false);
    expect(await lifecycle.settle(jobId, (await store.get(jobId))!)).toEqual({ phase: 'finishing', jobId });
    expect((await store.get(jobId))?.final).toBeUndefined();
    expect(await used()).toBe(1);
  });
});
