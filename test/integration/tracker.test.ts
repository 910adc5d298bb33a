/**
 * The status tracker on a real Redis and real queues, driven tick by tick with its clock: it leaves a fresh
 * job's status message to the bot that accepted it, posts it itself after the grace period, retries a platform
 * that refuses with growing spacing, gives up after a few tries (a finished job is then no longer tracked),
 * and waits for a failed job's failure delivery before the lifecycle decides its end. The chat platform is a
 * recording stand-in for the ChatAdapter port.
 */
import { randomBytes } from 'node:crypto';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ChatAdapter, StatusView } from '../../src/chat/types.js';
import { ZimageError } from '../../src/errors.js';
import { createLogger } from '../../src/infra/logger.js';
import { createRedis } from '../../src/infra/redis.js';
import { encodeFailure } from '../../src/jobs/failure.js';
import { newJobId } from '../../src/jobs/job-id.js';
import { Keys } from '../../src/jobs/keys.js';
import { JobLifecycle } from '../../src/jobs/lifecycle.js';
import { GENERATE_QUEUE, openQueues, type Queues } from '../../src/jobs/queues.js';
import { StatusStore } from '../../src/jobs/status-store.js';
import type { JobOrigin } from '../../src/jobs/types.js';
import { QuotaPolicy, quotaSchema } from '../../src/quota/policy.js';
import { QuotaService } from '../../src/quota/service.js';
import { StatusTracker } from '../../src/status/tracker.js';
import { REDIS_URL } from '../helpers/harness.js';

const log = createLogger('silent');

class RecordingPlatform implements ChatAdapter {
  readonly platform = 'test';
  readonly pacing = { minIntervalMs: 0, perWorkspacePerMinute: 10_000 };
  readonly posts: StatusView[] = [];
  readonly edits: Array<{ message: string; view: StatusView }> = [];
  refuse = false;
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  async reply(): Promise<string> { return 'r'; }
  async postStatus(_thread: string, view: StatusView): Promise<string> {
    this.posts.push(view);
    if (this.refuse) throw new Error('the platform refuses');
    return `msg-${view.jobId}-${this.posts.length}`;
  }
  /** Every edit fails with this, when set (and is still recorded as tried). */
  editError: Error | undefined;
  readonly editsTried: Array<{ message: string; view: StatusView }> = [];
  async updateStatus(message: string, view: StatusView): Promise<void> {
    this.editsTried.push({ message, view });
    if (this.editError) throw this.editError;
    this.edits.push({ message, view });
  }
  async postImage(): Promise<void> {}
}

let redis: Redis;
let keys: Keys;
let queues: Queues;
let store: StatusStore;
let platform: RecordingPlatform;
let lifecycle: JobLifecycle;
let tracker: StatusTracker;

beforeAll(() => { redis = createRedis(REDIS_URL(), 'tracker-test'); });
afterAll(async () => { await redis?.quit(); });
beforeEach(() => {
  keys = new Keys(`tr${randomBytes(4).toString('hex')}`);
  queues = openQueues(redis, keys.prefix);
  store = new StatusStore(redis, keys);
  const policy = new QuotaPolicy(quotaSchema.parse({}));
  const quota = new QuotaService(redis, keys, () => policy, new Map(), log);
  platform = new RecordingPlatform();
  const adapters = new Map([['test', platform]]);
  lifecycle = new JobLifecycle({ redis, keys, queues, store, quota, adapters, log });
  tracker = new StatusTracker({ redis, keys, queue: queues.generate, store, adapters, lifecycle, tickMs: 100, log });
});
afterEach(async () => { await tracker.stop(); await queues.close(); });

const origin = (): JobOrigin => ({ platform: 'test', workspace: 'W', channel: 'C', channelKind: 'public', thread: 'test:t', user: 'ann', locale: 'en', eventId: `e${randomBytes(3).toString('hex')}` });
const params = { prompt: 'a kite', width: 256, height: 256, steps: 2, seed: 1, count: 1 };

async function take(): Promise<{ job: Job; token: string }> {
  const worker = new Worker(GENERATE_QUEUE, null, { connection: redis, prefix: keys.prefix, autorun: false });
  const token = `t${randomBytes(4).toString('hex')}`;
  const job = (await worker.getNextJob(token, { block: false })) as Job;
  await worker.close();
  return { job, token };
}

describe('status tracker', () => {
  it('posts a status message the accepting bot could not, after the grace, retrying with growing spacing, then gives up', async () => {
    platform.refuse = true;
    const jobId = newJobId();
    await lifecycle.submit(origin(), params, { jobId });
    expect(platform.posts).toHaveLength(1); // the accepting bot's own attempt
    const t0 = (await store.get(jobId))!.acceptedAt;
    await tracker.runOnce(t0 + 1000);
    expect(platform.posts).toHaveLength(1); // still within the grace: the accepting bot may be posting it
    await tracker.runOnce(t0 + 6000);
    expect(platform.posts).toHaveLength(2);
    await tracker.runOnce(t0 + 7000);
    expect(platform.posts).toHaveLength(2); // spaced: 2 s after the first retry
    await tracker.runOnce(t0 + 8100);
    expect(platform.posts).toHaveLength(3);
    for (const at of [t0 + 12_200, t0 + 20_300, t0 + 36_400]) await tracker.runOnce(at);
    expect(platform.posts).toHaveLength(6); // five tries of the tracker's own
    // The job ends meanwhile (e.g. its failure was delivered): after the last try it stops being tracked.
    await lifecycle.end(jobId, { kind: 'failed', code: 'GENERATION_FAILED' }, (await store.get(jobId))!);
    await tracker.runOnce(t0 + 100_000);
    expect(platform.posts).toHaveLength(6);
    expect(await store.trackedIds()).not.toContain(jobId);
  });

  it('a retried post that succeeds is the message every later edit goes to', async () => {
    platform.refuse = true;
    const jobId = newJobId();
    await lifecycle.submit(origin(), params, { jobId });
    const t0 = (await store.get(jobId))!.acceptedAt;
    platform.refuse = false;
    await tracker.runOnce(t0 + 6000);
    expect((await store.get(jobId))!.message).toBe(`msg-${jobId}-2`);
    await lifecycle.end(jobId, { kind: 'cancelled' }, (await store.get(jobId))!);
    await tracker.runOnce(t0 + 7000);
    expect(platform.edits).toEqual([{ message: `msg-${jobId}-2`, view: { phase: 'cancelled', jobId } }]);
    expect(await store.trackedIds()).not.toContain(jobId);
  });

  it.each([
    { what: 'refused for good (the message was deleted)', error: new ZimageError('PLATFORM_REJECTED', 'update status: Slack said message_not_found'), tries: 1 },
    { what: 'failing for now (the platform is down)', error: new ZimageError('PLATFORM_UNAVAILABLE', 'update status: HTTP 503'), tries: 3 },
  ])('a status edit $what is tried $tries time(s) over the same ticks; the ended job stops being tracked', async ({ error, tries }) => {
    const jobId = newJobId();
    await lifecycle.submit(origin(), params, { jobId });
    const t0 = (await store.get(jobId))!.acceptedAt;
    await take(); // it runs: "generating" is an edit to send
    platform.editError = error;
    for (const at of [t0 + 1000, t0 + 4000, t0 + 8000]) await tracker.runOnce(at);
    expect(platform.editsTried.map((e) => e.view.phase)).toEqual(Array(tries).fill('generating'));
    await lifecycle.end(jobId, { kind: 'cancelled' }, (await store.get(jobId))!);
    platform.editError = undefined;
    await tracker.runOnce(t0 + 12_000);
    // A message refused for good is not edited again, not even with the end; a message that was only out of
    // reach gets it.
    expect(platform.edits.map((e) => e.view.phase)).toEqual(tries === 1 ? [] : ['cancelled']);
    expect(await store.trackedIds()).not.toContain(jobId);
  });

  it('a job that failed for good waits for its failure delivery, then the lifecycle ends it and the tracker shows it', async () => {
    const jobId = newJobId();
    await lifecycle.submit(origin(), params, { jobId });
    const { job, token } = await take();
    await job.moveToFailed(new UnrecoverableError(encodeFailure({ code: 'EP_UNAVAILABLE', detail: 'no CUDA' })), token, false);
    const finishedOn = (await queues.generate.getJob(jobId))!.finishedOn!;
    await tracker.runOnce(finishedOn + 1000);
    expect(platform.edits.filter((e) => e.view.phase === 'failed')).toHaveLength(0);
    expect((await store.get(jobId))!.final).toBeUndefined();
    await tracker.runOnce(finishedOn + 6000);
    const [edit] = platform.edits.filter((e) => e.view.phase === 'failed');
    expect(edit?.view).toMatchObject({ phase: 'failed', reason: expect.stringContaining('GPU runtime is not available') });
    expect((await store.get(jobId))!.final).toEqual(edit!.view);
  });
});
