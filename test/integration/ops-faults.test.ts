/**
 * Fault tolerance at operations scale (real Redis): a Redis restart with its append-only file, the bot
 * SIGKILLed with 100 jobs queued, two bots and two workers on one prefix, and 10 000 fuzzed commands
 * through the Playground API and the request router.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { BotApp } from '../../src/app/bot-app.js';
import type { BotRequest, ChatAdapter } from '../../src/chat/types.js';
import { freePort } from '../../src/infra/embedded-redis.js';
import { createLogger } from '../../src/infra/logger.js';
import { WorkerApp } from '../../worker/worker-app.js';
import {
  finished, images, PlaygroundClient, startBot, startWorker, statusOf, testEnv,
} from '../helpers/harness.js';
import { pgPost } from '../helpers/playground-http.js';
import { untilNothingLeftToDeliver } from '../helpers/deliveries-settled.js';
import { restartableRedis } from '../helpers/restartable-redis.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function allFinished(pg: PlaygroundClient, threads: Array<{ threadId: string }>, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  let pending = threads.map((x) => x.threadId);
  while (pending.length && Date.now() < until) {
    const states = await Promise.all(pending.map(async (id) => ({ id, done: finished(1)(await pg.thread(id)) })));
    pending = states.filter((s) => !s.done).map((s) => s.id);
    if (pending.length) await sleep(250);
  }
  expect(pending).toEqual([]);
  // Delivered once: nothing is left that could deliver again (no run pending, every durable deliver job done or
  // cleared), so a second image or status message would be in its thread by now.
  await untilNothingLeftToDeliver(pg.base);
  for (const { threadId } of threads) {
    const msgs = await pg.thread(threadId);
    expect(images(msgs)).toHaveLength(1);
    expect(msgs.filter((m) => m.status)).toHaveLength(1);
  }
}

describe('faults', () => {
  it('Redis restarted (append-only file): nothing queued or running is lost', async () => {
    const r = await restartableRedis();
    cleanups.push(r.cleanup);
    const redis = r.redis();
    const t = await testEnv({ REDIS_URL: redis.url, DEMO_STEP_DELAY_MS: '40' });
    cleanups.push(() => t.cleanup());
    const log = createLogger('silent');
    const bot = new BotApp({ config: t.config, redisUrl: redis.url, log });
    await bot.start();
    cleanups.push(() => bot.stop());
    const worker = new WorkerApp({ config: t.config, redisUrl: redis.url, log });
    await worker.start();
    cleanups.push(() => worker.stop());
    const pg = new PlaygroundClient(`http://127.0.0.1:${bot.boundPort}`);
    const threads = [];
    for (let i = 0; i < 12; i++) threads.push(await pg.post(`u${i % 4}`, `/zimage aof ${i} --size 256x256 --steps 3 --seed ${i}`));
    await pg.waitFor(threads[1]!.threadId, finished(1), 30_000);
    await redis.stop(); // SIGTERM: redis-server flushes the append-only file
    await sleep(700);
    await r.restart();
    await allFinished(pg, threads, 60_000);
    expect(await bot.queues.generate.getJobCounts('completed', 'failed')).toEqual({ completed: 12, failed: 0 });
  }, 120_000);

  it('the bot SIGKILLed with 100 jobs queued: all delivered after a restart', async () => {
    const port = await freePort();
    const t = await testEnv({ PORT: String(port), STATUS_TICK_MS: '200' });
    cleanups.push(() => t.cleanup());
    const child = spawn(process.execPath, [resolve('dist/src/main/bot.js')], { env: { ...process.env, ...t.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    cleanups.push(() => { child.kill('SIGKILL'); });
    const pg = new PlaygroundClient(`http://127.0.0.1:${port}`);
    const until = Date.now() + 30_000;
    while (!(await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false))) {
      if (Date.now() > until || child.exitCode !== null) throw new Error('bot process did not start');
      await sleep(100);
    }
    const threads = await Promise.all(Array.from({ length: 100 }, (_, i) => pg.post(`user${i % 10}`, `/zimage crash test ${i} --size 256x256 --steps 2 --seed ${i}`)));
    // Wait until every job is queued (its status message posted), then kill the bot without warning.
    const queuedBy = Date.now() + 30_000;
    for (;;) {
      const statuses = await Promise.all(threads.map(async ({ threadId }) => statusOf(await pg.thread(threadId))));
      if (statuses.every(Boolean) || Date.now() > queuedBy) break;
      await sleep(200);
    }
    child.kill('SIGKILL');
    await once(child, 'exit');
    const worker = await startWorker(t);
    cleanups.push(() => worker.stop());
    await sleep(500); // deliveries pile up in Redis while no bot runs
    const bot = await startBot(t);
    cleanups.push(() => bot.stop());
    await allFinished(pg, threads, 90_000);
    expect(await bot.queues.deliver.getJobCounts('waiting', 'delayed', 'active', 'failed')).toEqual({ waiting: 0, delayed: 0, active: 0, failed: 0 });
  }, 150_000);
});

describe('scale-out', () => {
  it('two bots and two workers on one prefix: exact positions, each job delivered once', async () => {
    const t = await testEnv({ DEMO_STEP_DELAY_MS: '5' });
    cleanups.push(() => t.cleanup());
    const bots = [await startBot(t), await startBot(t)];
    for (const b of bots) cleanups.push(() => b.stop());
    const pgs = bots.map((b) => new PlaygroundClient(`http://127.0.0.1:${b.boundPort}`));
    const threads = [];
    for (let i = 0; i < 16; i++) threads.push(await pgs[i % 2]!.post(`p${i % 5}`, `/zimage scale ${i} --size 256x256 --steps 2 --seed ${i}`));
    // With no worker yet, the one tracker (leader lease) settles every status to its exact place in line.
    // The Playground answers 201 first and queues right after: wait until all 16 are in line.
    let order: string[] = [];
    for (const until = Date.now() + 10_000; order.length < 16 && Date.now() < until; await sleep(50)) {
      order = await bots[0]!.queues.generate.getRanges(['wait', 'prioritized'], 0, -1, true);
    }
    expect(order).toHaveLength(16);
    const until = Date.now() + 15_000;
    let ok = false;
    while (!ok && Date.now() < until) {
      const views = await Promise.all(threads.map(async ({ threadId }) => statusOf(await pgs[0]!.thread(threadId))?.status as { jobId?: string; position?: number; total?: number } | undefined));
      ok = views.every((v) => v?.jobId && v.position === order.indexOf(v.jobId) + 1 && v.total === 16);
      if (!ok) await sleep(150);
    }
    expect(ok).toBe(true);
    const workers = [await startWorker(t), await startWorker(t)];
    for (const w of workers) cleanups.push(() => w.stop());
    await allFinished(pgs[1]!, threads, 60_000);
    expect(await bots[0]!.queues.deliver.getJobCounts('waiting', 'delayed', 'active', 'failed')).toEqual({ waiting: 0, delayed: 0, active: 0, failed: 0 });
    const ran = await bots[0]!.queues.generate.getJobs(['completed'], 0, -1);
    expect(new Set(ran.map((j) => j.id)).size).toBe(16);
  }, 120_000);
});

describe('command fuzz through the Playground API and the router', () => {
  const FLAGS = ['--size', '--seed', '--steps', '--count', '--szie', '--', '-s', '—size', '--size=', '--seed=-1'];
  const VALUES = ['512x512', '1024x1024', '7x7', '4096', '-3', '0', '1', '99999999999', 'abc', '"', '“quoted”', '16', '2', '🐱', ''];
  const WORDS = ['a', 'cat', '水墨', 'help', 'status', '?', 'quota', '--help', '"x', '\\', '\u0000', 'x'.repeat(300), 'on a hill', ' ', '\t', '\n'];

  function randomCommand(rnd: () => number): string {
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const parts: string[] = [];
    const n = 1 + Math.floor(rnd() * 8);
    for (let i = 0; i < n; i++) {
      const r = rnd();
      parts.push(r < 0.45 ? pick(WORDS) : r < 0.75 ? pick(FLAGS) : pick(VALUES));
    }
    let text = parts.join(rnd() < 0.8 ? ' ' : '');
    if (rnd() < 0.1) text = text.split('').reverse().join('');
    if (rnd() < 0.05) text = String.fromCharCode(...Array.from({ length: 20 }, () => Math.floor(rnd() * 0x3000)));
    return text.trim() === '' ? 'x' : text;
  }

  it('10 000 random and mutated commands: each becomes a job or a clear reply, nothing crashes', async () => {
    // The grammar is what is fuzzed here: the per-person bounds (waiting jobs, commands per minute) are lifted.
    const settingsDir = mkdtempSync(join(tmpdir(), 'zimage-fuzz-'));
    cleanups.push(() => rmSync(settingsDir, { recursive: true, force: true }));
    const settings = join(settingsDir, 'zimage.yml');
    writeFileSync(settings, 'quota: { maxWaiting: unlimited, commandsPerMinute: unlimited, default: unlimited }\n');
    const t = await testEnv({ STATUS_TICK_MS: '60000', CONFIG_FILE: settings });
    cleanups.push(() => t.cleanup());
    const bot = await startBot(t);
    cleanups.push(() => bot.stop());
    const pg = bot.adapters.get('playground') as ChatAdapter;
    const answers = new Map<string, string[]>();
    const note = (thread: string, what: string): void => { answers.set(thread, [...(answers.get(thread) ?? []), what]); };
    const reply = pg.reply.bind(pg);
    const postStatus = pg.postStatus.bind(pg);
    pg.reply = async (thread, text) => { note(thread, `reply:${text.length > 0}`); return reply(thread, text); };
    pg.postStatus = async (thread, view, locale) => { note(thread, 'job'); return postStatus(thread, view, locale); };
    let seed = 12345;
    const rnd = (): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed / 2 ** 31; };
    const base = `http://127.0.0.1:${bot.boundPort}`;
    const threads: string[] = [];
    const N = 10_000;
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < N) {
        const i = next++;
        const res = await pgPost(base, '/api/playground/messages', { user: `fz${i % 300}`, text: `/zimage ${randomCommand(rnd)}` });
        expect(res.status).toBe(201);
        threads.push(`playground:${((await res.json()) as { threadId: string }).threadId}`);
      }
    };
    await Promise.all(Array.from({ length: 16 }, lane));
    const until = Date.now() + 60_000;
    while (answers.size < N && Date.now() < until) await sleep(100);
    expect(answers.size).toBe(N);
    let jobs = 0;
    for (const th of threads) {
      const a = answers.get(th)!;
      expect(a).toHaveLength(1);
      expect(['job', 'reply:true']).toContain(a[0]);
      if (a[0] === 'job') jobs++;
    }
    expect(jobs).toBeGreaterThan(1000);
    expect(jobs).toBeLessThan(N);
    const counts = await bot.queues.generate.getJobCounts('prioritized', 'waiting');
    expect((counts.prioritized ?? 0) + (counts.waiting ?? 0)).toBe(jobs);

    // A replayed platform request (same event id) never makes a second job.
    const replay: BotRequest = { platform: 'playground', workspace: 'local', channel: 'general', thread: threads[0]!, user: 'fz0', text: 'a replayed cat', eventId: 'evt-replay-1' };
    await bot.intake.handle(replay);
    await bot.intake.handle(replay);
    await bot.intake.handle({ ...replay });
    const after = await bot.queues.generate.getJobCounts('prioritized', 'waiting');
    expect((after.prioritized ?? 0) + (after.waiting ?? 0)).toBe(jobs + 1);
  }, 180_000);
});

