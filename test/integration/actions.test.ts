import { afterEach, describe, expect, it } from 'vitest';
import type { BotApp } from '../../src/app/bot-app.js';
import type { WorkerApp } from '../../worker/worker-app.js';
import { finished, images, PlaygroundClient, startBot, startWorker, statusOf, testEnv } from '../helpers/harness.js';
import { pgPost } from '../helpers/playground-http.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => { while (cleanups.length) await cleanups.pop()!(); });

async function setup(env: Record<string, string> = {}) {
  const t = await testEnv(env);
  cleanups.push(() => t.cleanup());
  const bot = await startBot(t);
  cleanups.push(() => bot.stop());
  return { t, bot, pg: new PlaygroundClient(`http://127.0.0.1:${bot.boundPort}`) };
}

async function click(bot: BotApp, user: string, kind: 'cancel' | 'regenerate' | 'variations', jobId: string, threadId: string) {
  const res = await pgPost(`http://127.0.0.1:${bot.boundPort}`, '/api/playground/actions', { user, kind, jobId, threadId });
  expect(res.status).toBe(200);
  return (await res.json()) as { ok: boolean; message: string };
}

describe('buttons', () => {
  it('cancel while queued: the job leaves the line at once and everyone behind moves up', async () => {
    const { bot, pg } = await setup();
    const a = await pg.post('ann', '/zimage first --size 256x256');
    const b = await pg.post('ben', '/zimage second --size 256x256');
    const c = await pg.post('cat', '/zimage third --size 256x256');
    await pg.waitFor(c.threadId, (m) => statusOf(m)?.status?.position === 3);
    const jobId = (statusOf(await pg.thread(a.threadId))!.status as unknown as { jobId: string }).jobId;
    expect(await click(bot, 'ben', 'cancel', jobId, a.threadId)).toMatchObject({ ok: false });
    expect(await click(bot, 'ann', 'cancel', jobId, a.threadId)).toMatchObject({ ok: true });
    await pg.waitFor(a.threadId, (m) => statusOf(m)?.status?.phase === 'cancelled');
    expect(statusOf(await pg.thread(a.threadId))!.text).toBe('Cancelled');
    await pg.waitFor(b.threadId, (m) => statusOf(m)?.status?.position === 1);
    await pg.waitFor(c.threadId, (m) => statusOf(m)?.status?.position === 2);
    expect(await bot.queues.generate.count()).toBe(2);
  });

  it('cancel while generating: the worker stops between steps', async () => {
    const { t, bot, pg } = await setup({ DEMO_STEP_DELAY_MS: '300' });
    const worker: WorkerApp = await startWorker(t);
    cleanups.push(() => worker.stop());
    const a = await pg.post('ann', '/zimage slow one --size 256x256 --steps 16');
    const running = await pg.waitFor(a.threadId, (m) => statusOf(m)?.status?.phase === 'generating' && (statusOf(m)?.status?.step ?? 0) >= 1);
    const jobId = (statusOf(running)!.status as unknown as { jobId: string }).jobId;
    expect(await click(bot, 'ann', 'cancel', jobId, a.threadId)).toEqual({ ok: true, message: 'Stopping it after the current step…' });
    const thread = await pg.waitFor(a.threadId, (m) => statusOf(m)?.status?.phase === 'cancelled', 15_000);
    expect(images(thread)).toHaveLength(0);
    const job = await bot.queues.generate.getJob(jobId);
    expect(await job!.getState()).toBe('failed');
    expect(job!.attemptsMade).toBe(1);
  });

  it('regenerate and variations queue new jobs in the same thread with new seeds', async () => {
    const { t, bot, pg } = await setup();
    const worker = await startWorker(t);
    cleanups.push(() => worker.stop());
    const a = await pg.post('ann', '/zimage a red kite --size 256x256 --steps 2 --seed 11');
    const first = await pg.waitFor(a.threadId, finished(1));
    const jobId = images(first)[0]!.metadata!.jobId;
    expect(await click(bot, 'bob', 'regenerate', jobId, a.threadId)).toMatchObject({ ok: true });
    expect(await click(bot, 'bob', 'variations', jobId, a.threadId)).toMatchObject({ ok: true });
    const thread = await pg.waitFor(a.threadId, (m) => images(m).length === 6 && m.filter((x) => x.status?.phase === 'done').length === 3, 30_000);
    const imgs = images(thread);
    expect(imgs.every((m) => m.metadata!.prompt === 'a red kite')).toBe(true);
    expect(imgs.slice(1).every((m) => m.metadata!.user === 'bob')).toBe(true);
    expect(new Set(imgs.map((m) => m.metadata!.seed)).size).toBe(6);
  });
});

describe('status after delivery', () => {
  it('"Done" follows the image at once, not at the next tracker tick', async () => {
    const { t, pg } = await setup({ STATUS_TICK_MS: '5000' });
    const worker = await startWorker(t);
    cleanups.push(() => worker.stop());
    const a = await pg.post('ann', '/zimage quick one --size 256x256 --steps 1');
    await pg.waitFor(a.threadId, (m) => images(m).length === 1, 20_000);
    const seenAt = Date.now();
    await pg.waitFor(a.threadId, (m) => statusOf(m)?.status?.phase === 'done', 2_000);
    expect(Date.now() - seenAt).toBeLessThan(1500);
  });
});
