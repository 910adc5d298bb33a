/**
 * Redis going away while the bot and a worker run (real private redis-server, SIGKILLed, restarted on the same
 * port and data directory): readiness says so at once, commands are answered "try again" with nothing written
 * half-way, and the job that was running completes once Redis is back — delivered once, charged once.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { BotApp } from '../../src/app/bot-app.js';
import type { ChatAdapter } from '../../src/chat/types.js';
import { t as translate } from '../../src/i18n/index.js';
import { createLogger } from '../../src/infra/logger.js';
import { WorkerApp } from '../../worker/worker-app.js';
import { untilNothingLeftToDeliver } from '../helpers/deliveries-settled.js';
import { images, PlaygroundClient, statusOf, testEnv } from '../helpers/harness.js';
import { restartableRedis, type RestartableRedis } from '../helpers/restartable-redis.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** A chat platform that answers without Redis (as Slack and Lark do): it records what the bot says. */
function recordingAdapter(platform: string): ChatAdapter & { replies: string[]; statuses: number } {
  const a = {
    platform, pacing: { minIntervalMs: 0, perWorkspacePerMinute: 1000 }, replies: [] as string[], statuses: 0,
    start: async () => undefined, stop: async () => undefined,
    reply: async (_thread: string, text: string) => { a.replies.push(text); return `${platform}:r${a.replies.length}`; },
    postStatus: async () => { a.statuses++; return `${platform}:s${a.statuses}`; },
    updateStatus: async () => undefined, postImage: async () => undefined,
  };
  return a;
}

async function privateRedis(): Promise<RestartableRedis> {
  const r = await restartableRedis();
  cleanups.push(r.cleanup);
  return r;
}

async function readyz(base: string): Promise<{ status: number; ms: number }> {
  const t0 = Date.now();
  const res = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(5000) });
  await res.arrayBuffer();
  return { status: res.status, ms: Date.now() - t0 };
}

describe('Redis unreachable while running', () => {
  it('SIGKILLed mid-job: /readyz 503 within 1 s, commands get "try again", the job completes once Redis is back (delivered once, charged once)', async () => {
    const r = await privateRedis();
    const t = await testEnv({ REDIS_URL: r.redis().url, DEMO_STEP_DELAY_MS: '150' });
    cleanups.push(() => t.cleanup());
    const log = createLogger('silent');
    const bot = new BotApp({ config: t.config, redisUrl: r.redis().url, log });
    await bot.start();
    cleanups.push(() => bot.stop());
    const worker = new WorkerApp({ config: t.config, redisUrl: r.redis().url, log });
    await worker.start();
    cleanups.push(() => worker.stop());
    const base = `http://127.0.0.1:${bot.boundPort}`;
    const pg = new PlaygroundClient(base);
    await expect.poll(async () => (await readyz(base)).status, { timeout: 10_000 }).toBe(200);

    const { threadId } = await pg.post('gina', '/zimage a lighthouse in a storm --size 256x256 --steps 10 --seed 11');
    await pg.waitFor(threadId, (m) => statusOf(m)?.status?.phase === 'generating' && (statusOf(m)?.status?.step ?? 0) >= 1, 30_000);
    r.redis().kill();

    const probe = await readyz(base);
    expect(probe.status).toBe(503);
    expect(probe.ms).toBeLessThan(1000);

    // The Playground keeps its messages in Redis: the post itself is refused, with the reason.
    const t0 = Date.now();
    const refused = await fetch(`${base}/api/playground/messages`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'hugo', text: '/zimage a cat' }),
      signal: AbortSignal.timeout(5000),
    });
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toBe(translate('en', 'errors.UNAVAILABLE'));

    // A platform that can answer without Redis gets the short reply, in the person's language.
    const chat = recordingAdapter('probe');
    bot.adapters.set('probe', chat);
    const req = { platform: 'probe', workspace: 'w', channel: 'c', thread: 'probe:t1', user: 'ivy', text: 'a cat --size 256x256', eventId: 'e1' };
    const t1 = Date.now();
    await bot.intake.handle(req);
    await bot.intake.handle({ ...req, eventId: 'e2', locale: 'zh-CN' });
    expect(Date.now() - t1).toBeLessThan(2000);
    expect(chat.replies).toEqual([translate('en', 'errors.UNAVAILABLE'), translate('zh-CN', 'errors.UNAVAILABLE')]);
    expect(chat.statuses).toBe(0);

    await sleep(500);
    await r.restart();
    // Bot and worker reconnect by themselves (no restart): ready again within the reconnect back-off.
    await expect.poll(async () => (await readyz(base)).status, { timeout: 10_000 }).toBe(200);
    await pg.waitFor(threadId, (m) => images(m).length >= 1 && statusOf(m)?.status?.phase === 'done', 60_000);
    await untilNothingLeftToDeliver(base); // no run or delivery pending: a second delivery would show by now
    const msgs = await pg.thread(threadId);
    expect(images(msgs)).toHaveLength(1);
    expect(msgs.filter((m) => m.status)).toHaveLength(1);
    expect((await bot.quota.standing({ platform: 'playground', workspace: 'local', user: 'gina' })).used).toBe(1);
    // Nothing of the refused commands was written: no job, no charge, no status record.
    expect((await bot.quota.standing({ platform: 'probe', workspace: 'w', user: 'ivy' })).used).toBe(0);
    const all = await bot.queues.generate.getJobs(['completed', 'failed', 'waiting', 'prioritized', 'active', 'delayed'], 0, -1);
    expect(all.map((j) => j.data.params.prompt)).toEqual(['a lighthouse in a storm']);
    await expect.poll(() => bot.redis.zcard(bot.keys.tracked()), { timeout: 5000 }).toBe(0);
    // The same command now goes through.
    await bot.intake.handle({ ...req, eventId: 'e3' });
    expect(chat.statuses).toBe(1);
  }, 120_000);

  it('Redis lost between the charge and the job: the charge is given back once Redis returns, nothing else is written', async () => {
    const r = await privateRedis();
    const t = await testEnv({ REDIS_URL: r.redis().url });
    cleanups.push(() => t.cleanup());
    const bot = new BotApp({ config: t.config, redisUrl: r.redis().url, log: createLogger('silent') });
    await bot.start();
    cleanups.push(() => bot.stop());
    const chat = recordingAdapter('probe');
    bot.adapters.set('probe', chat);
    // Redis dies right after the quota script charged the request, before the job is written.
    const reserve = bot.quota.reserve.bind(bot.quota);
    let charged = 0;
    bot.quota.reserve = async (...args: Parameters<typeof reserve>) => {
      const res = await reserve(...args);
      if (res.ok) { charged++; r.redis().kill(); await sleep(200); }
      return res;
    };
    await bot.intake.handle({ platform: 'probe', workspace: 'w', channel: 'c', thread: 'probe:t1', user: 'jo', text: 'a dog --size 256x256', eventId: 'e1' });
    expect(charged).toBe(1);
    expect(chat.replies).toEqual([translate('en', 'errors.UNAVAILABLE')]);
    expect(chat.statuses).toBe(0);
    await r.restart();
    const id = { platform: 'probe', workspace: 'w', user: 'jo' };
    await expect.poll(async () => (await bot.quota.standing(id).catch(() => null))?.used, { timeout: 15_000, interval: 200 }).toBe(0);
    expect(await bot.queues.generate.count()).toBe(0);
    expect(await bot.redis.zcard(bot.keys.tracked())).toBe(0);
    expect(await bot.redis.scard(bot.keys.userWaiting('probe', 'w', 'jo'))).toBe(0);
  }, 60_000);
});
