/**
 * The fast lane between workers and bots (src/delivery/handoff.ts, fast-lane.ts) with a real bot, worker and
 * Redis: the usual way a result arrives, the durable `deliver` job as its fallback, and the lease that keeps
 * the two from posting the same delivery.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { BotApp } from '../../src/app/bot-app.js';
import { FAST_LANE, handOff } from '../../src/delivery/handoff.js';
import { newJobId } from '../../src/jobs/job-id.js';
import { deliverJobId, deliverJobOptions, openQueues } from '../../src/jobs/queues.js';
import { Keys } from '../../src/jobs/keys.js';
import { createRedis } from '../../src/infra/redis.js';
import type { DeliverJobData } from '../../src/jobs/types.js';
import { finished, images, PlaygroundClient, REDIS_URL, startBot, startWorker, testEnv, type TestEnv } from '../helpers/harness.js';
import { restartableRedis } from '../helpers/restartable-redis.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function env(): Promise<TestEnv> {
  const t = await testEnv();
  cleanups.push(() => t.cleanup());
  return t;
}

async function bot(t: TestEnv): Promise<{ bot: BotApp; pg: PlaygroundClient; metrics: () => Promise<string> }> {
  const b = await startBot(t);
  cleanups.push(() => b.stop());
  const base = `http://127.0.0.1:${b.boundPort}`;
  return { bot: b, pg: new PlaygroundClient(base), metrics: async () => (await fetch(`${base}/metrics`)).text() };
}

/** A generation failure to deliver into a Playground thread (no image needed). */
function failure(threadId: string): DeliverJobData {
  return {
    kind: 'failure', jobId: newJobId(), code: 'GENERATION_FAILED', detail: 'the engine stopped',
    origin: { platform: 'playground', workspace: 'local', channel: 'general', thread: `playground:${threadId}`, user: 'ann', locale: 'en', eventId: newJobId() },
  };
}

const pending = (b: BotApp) => b.queues.deliver.getJobCounts('waiting', 'delayed', 'active', 'failed');
const nothingPending = { waiting: 0, delayed: 0, active: 0, failed: 0 };

async function until(what: string, ok: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const by = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > by) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('fast lane', () => {
  it('a finished job reaches the bot through the lane: posted once, and its durable job is cleared', async () => {
    const t = await env();
    const { bot: b, pg, metrics } = await bot(t);
    const worker = await startWorker(t);
    cleanups.push(() => worker.stop());
    const { threadId } = await pg.post('ann', '/zimage a paper boat --size 256x256 --steps 2');
    const thread = await pg.waitFor(threadId, finished(1));
    expect(images(thread)).toHaveLength(1);
    await until('the durable job to be cleared', async () => (await pending(b)).delayed === 0);
    expect(await pending(b)).toEqual(nothingPending);
    const m = await metrics();
    expect(m).toContain('zimage_deliveries_total{platform="playground",path="fast_lane"} 1');
    expect(m).not.toContain('path="queue"');
    expect(await b.redis.llen(b.keys.deliverReady())).toBe(0);
  });

  it('deliveries handed off while no bot runs: a bot that starts takes fresh offers through the lane and runs old ones at once', async () => {
    const t = await env();
    const first = await bot(t);
    const { threadId } = await first.pg.post('ann', 'a thread to answer in');
    await first.bot.stop();
    cleanups.pop();

    // What workers do while no bot runs: one delivery handed off just now…
    const redis = createRedis(REDIS_URL(), 'fast-lane-test');
    const queues = openQueues(redis, t.prefix);
    cleanups.push(async () => { await queues.close(); await redis.quit(); });
    const keys = new Keys(t.prefix);
    const fresh = failure(threadId);
    await handOff(redis, keys, queues.deliver, fresh, deliverJobOptions);
    // …and one from long enough ago that no lane may take it any more (its durable job still waits for the grace).
    const old = failure(threadId);
    const longAgo = Date.now() - FAST_LANE.staleMs - 5000;
    await queues.deliver.add('deliver', old, { ...deliverJobOptions, jobId: deliverJobId(old.jobId), delay: FAST_LANE.graceMs, timestamp: longAgo });
    await redis.lpush(keys.deliverReady(), JSON.stringify({ data: old, offeredAt: longAgo }));

    const { bot: b, metrics } = await bot(t);
    await until('both deliveries', async () => (await b.redis.exists(b.keys.deliveryDone(fresh.jobId), b.keys.deliveryDone(old.jobId))) === 2);
    const m = await metrics();
    expect(m).toContain('zimage_deliveries_total{platform="playground",path="fast_lane"} 1');
    expect(m).toContain('zimage_deliveries_total{platform="playground",path="queue"} 1');
    await until('the durable jobs to be cleared', async () => (await pending(b)).delayed === 0);
    expect(await pending(b)).toEqual(nothingPending);
  });

  it('the durable job leaves a delivery alone while a lane holds it, and does nothing once the lane has finished it', async () => {
    const t = await env();
    const { bot: b, pg } = await bot(t);
    const { threadId } = await pg.post('ann', 'a thread to answer in');
    const held = failure(threadId);
    await b.redis.set(b.keys.deliveryLease(held.jobId), 'fast', 'PX', 60_000);
    await b.queues.deliver.add('deliver', held, { ...deliverJobOptions, jobId: deliverJobId(held.jobId) });
    // The job runs, sees the lease and goes back to waiting: nothing is delivered.
    await until('the held job to be put back', async () => (await b.queues.deliver.getJobCounts('delayed')).delayed === 1);
    expect(await b.redis.exists(b.keys.deliveryDone(held.jobId))).toBe(0);

    const done = failure(threadId);
    await b.redis.set(b.keys.deliveryDone(done.jobId), '1');
    await b.queues.deliver.add('deliver', done, { ...deliverJobOptions, jobId: deliverJobId(done.jobId) });
    await until('the finished delivery to complete', async () => (await b.queues.deliver.getJobState(deliverJobId(done.jobId))) === 'completed');
    // Completing it did not deliver it again: no final state was recorded for it.
    expect(await b.store.get(done.jobId)).toBeNull();
  });

  it('after Redis was away, a delivery whose offer was lost runs once the lane could no longer take it, not at the end of the grace', async () => {
    const r = await restartableRedis();
    cleanups.push(r.cleanup);
    const t = await testEnv({ REDIS_URL: r.redis().url });
    cleanups.push(() => t.cleanup());
    const { bot: b, pg } = await bot(t);
    const { threadId } = await pg.post('ann', 'a thread to answer in');
    // A worker handed this delivery off as Redis went away: its durable job was written, its offer is gone.
    const lost = failure(threadId);
    await b.queues.deliver.add('deliver', lost, { ...deliverJobOptions, jobId: deliverJobId(lost.jobId), delay: FAST_LANE.graceMs });
    await r.redis().stop();
    await sleep(1500); // the lane's reads fail meanwhile
    await r.restart();
    const back = Date.now();
    // Without the lane's look after the outage the durable job would run at the end of its grace (30 s).
    const answered = (msgs: Array<{ user: string }>): boolean => msgs.some((m) => m.user === 'zimage');
    const thread = await pg.waitFor(threadId, answered, FAST_LANE.staleMs + 8000);
    expect(Date.now() - back).toBeLessThan(FAST_LANE.graceMs - 10_000);
    expect(thread.filter((m) => m.user === 'zimage')).toHaveLength(1);
  }, 60_000);
});
