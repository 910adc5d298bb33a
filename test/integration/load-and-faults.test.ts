import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { BotApp } from '../../src/app/bot-app.js';
import type { WorkerApp } from '../../worker/worker-app.js';
import {
  finished, images, PlaygroundClient, spawnWorker, startBot, startWorker, statusOf, testEnv, type TestEnv,
} from '../helpers/harness.js';
import { untilNothingLeftToDeliver } from '../helpers/deliveries-settled.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(overrides: Record<string, string> = {}): Promise<{ t: TestEnv; bot: BotApp; pg: PlaygroundClient }> {
  const t = await testEnv(overrides);
  cleanups.push(() => t.cleanup());
  const bot = await startBot(t);
  cleanups.push(() => bot.stop());
  return { t, bot, pg: new PlaygroundClient(`http://127.0.0.1:${bot.boundPort}`) };
}

describe('many people at once', () => {
  it('20 users × 3 commands: every job delivered exactly once; positions never rise once everyone is queued', async () => {
    const { t, bot, pg } = await setup({ DEMO_STEP_DELAY_MS: '15' });
    const users = Array.from({ length: 20 }, (_, i) => `user${i}`);
    const posts = users.flatMap((u) => [1, 2, 3].map((n) => pg.post(u, `/zimage ${u} picture ${n} --size 256x256 --steps 4 --seed ${n}`)));
    const threads = await Promise.all(posts);
    // A POST is answered once its message is stored; the command is queued right after: wait for all 60 jobs.
    const queuedBy = Date.now() + 30_000;
    while ((await bot.queues.generate.count()) < 60 && Date.now() < queuedBy) await sleep(20);
    // Then until every status message shows the whole line (60 in it): the tracker has caught up, and from then on
    // no job can arrive ahead of anyone.
    for (const shownBy = Date.now() + 30_000; ;) {
      const totals = await Promise.all(threads.map(async ({ threadId }) => statusOf(await pg.thread(threadId))?.status?.total));
      if (totals.every((n) => n === 60)) break;
      if (Date.now() > shownBy) throw new Error(`the status messages never all showed the whole line: ${JSON.stringify(totals)}`);
      await sleep(150);
    }
    const allQueuedAt = Date.now();
    const worker = await startWorker(t);
    cleanups.push(() => worker.stop());

    // Watch every thread's status message until all are done; keep the positions each one showed.
    const seen = new Map<string, Array<{ at: number; position: number }>>();
    const until = Date.now() + 90_000;
    let done = 0;
    while (Date.now() < until) {
      const states = await Promise.all(threads.map(async ({ threadId }) => ({ threadId, msgs: await pg.thread(threadId) })));
      done = 0;
      for (const { threadId, msgs } of states) {
        const st = statusOf(msgs)?.status;
        if (st?.phase === 'queued' && st.position) {
          const list = seen.get(threadId) ?? [];
          list.push({ at: Date.now(), position: st.position });
          seen.set(threadId, list);
        }
        if (finished(1)(msgs)) done++;
      }
      if (done === threads.length) break;
      await sleep(150);
    }
    expect(done).toBe(threads.length);
    for (const { threadId } of threads) {
      const msgs = await pg.thread(threadId);
      expect(images(msgs)).toHaveLength(1);
      expect(msgs.filter((m) => m.status)).toHaveLength(1);
    }
    // No job arrived after allQueuedAt, and every message showed the whole line by then: from then on a position
    // can only fall.
    let rises = 0;
    let observed = 0;
    for (const list of seen.values()) {
      const later = list.filter((o) => o.at > allQueuedAt);
      observed += later.length;
      for (let i = 1; i < later.length; i++) if (later[i]!.position > later[i - 1]!.position) rises++;
    }
    expect(observed).toBeGreaterThan(20);
    expect(rises).toBe(0);
    // Fair share: each user's first job ran before anyone's third.
    const completed = await bot.queues.generate.getJobs(['completed'], 0, -1, true);
    expect(completed).toHaveLength(60);
    const order = completed.sort((a, b) => (a.processedOn ?? 0) - (b.processedOn ?? 0)).map((j) => j.data.params.prompt);
    const firstRoundEnd = Math.max(...users.map((u) => order.indexOf(`${u} picture 1`)));
    const thirdRoundStart = Math.min(...users.map((u) => order.indexOf(`${u} picture 3`)));
    expect(firstRoundEnd).toBeLessThan(thirdRoundStart);
  }, 120_000);
});

describe('faults', () => {
  it('a worker killed mid-job: the job re-runs and is delivered once', async () => {
    const { t, bot, pg } = await setup({ DEMO_STEP_DELAY_MS: '250' });
    const doomed = spawnWorker(t);
    cleanups.push(() => { doomed.kill('SIGKILL'); });
    const { threadId } = await pg.post('gina', '/zimage a lighthouse in a storm --size 256x256 --steps 8 --seed 5');
    await pg.waitFor(threadId, (m) => statusOf(m)?.status?.phase === 'generating' && (statusOf(m)?.status?.step ?? 0) >= 1, 60_000);
    doomed.kill('SIGKILL');
    await once(doomed, 'exit');
    const rescuer = await startWorker(t, { DEMO_STEP_DELAY_MS: '0' });
    cleanups.push(() => rescuer.stop());
    const thread = await pg.waitFor(threadId, finished(1), 60_000);
    // Nothing is left that could deliver again (no run pending, the durable deliver job cleared): a duplicate
    // delivery would be in the thread by now.
    await untilNothingLeftToDeliver(pg.base);
    const after = await pg.thread(threadId);
    expect(images(after)).toHaveLength(1);
    expect(after.filter((m) => m.status)).toHaveLength(1);
    const jobId = images(thread)[0]!.metadata!.jobId;
    const job = await bot.queues.generate.getJob(jobId);
    expect(await job!.getState()).toBe('completed');
    // Delivered through the fast lane; the durable deliver job was cleared, nothing is left to deliver.
    expect(await bot.queues.deliver.getJobCounts('waiting', 'delayed', 'active', 'failed')).toEqual({ waiting: 0, delayed: 0, active: 0, failed: 0 });
  }, 120_000);

  it('the bot restarted while jobs are queued: all are delivered', async () => {
    const t = await testEnv();
    cleanups.push(() => t.cleanup());
    const first = await startBot(t);
    const pg1 = new PlaygroundClient(`http://127.0.0.1:${first.boundPort}`);
    const threads = await Promise.all([1, 2, 3, 4, 5].map((n) => pg1.post(`u${n}`, `/zimage restart test ${n} --size 256x256 --steps 2`)));
    await sleep(300);
    await first.stop();
    let worker: WorkerApp | undefined;
    worker = await startWorker(t);
    cleanups.push(() => worker!.stop());
    await sleep(500); // jobs run while no bot is up; their deliveries wait in Redis
    const second = await startBot(t);
    cleanups.push(() => second.stop());
    const pg2 = new PlaygroundClient(`http://127.0.0.1:${second.boundPort}`);
    for (const { threadId } of threads) {
      const thread = await pg2.waitFor(threadId, finished(1), 60_000);
      expect(images(thread)).toHaveLength(1);
      expect(thread.filter((m) => m.status)).toHaveLength(1);
    }
  }, 120_000);
});
