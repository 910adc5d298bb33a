/**
 * Per-person bounds at intake (real bot, Redis, HTTP): at most N waiting jobs per person (per role), a rate
 * limit on commands per minute, both refused with a message and with nothing queued or charged; scheduled
 * runs and roles without a bound keep working. Fair share across workspaces: a flood of new names in one
 * workspace does not push another workspace's first job behind it. And the Playground history is trimmed.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PlaygroundStore } from '../../adapters/playground/store.js';
import { botReplies, PlaygroundClient, startBot, testEnv, type TestEnv } from '../helpers/harness.js';
import { pgPost } from '../helpers/playground-http.js';
import { FORM, startSlackBot, type SlackTestBot } from '../helpers/slack-bot.js';
import { slashCommand } from '../helpers/fake-slack.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => { while (cleanups.length) await cleanups.pop()!(); });

async function env(settings: string, extra: Record<string, string> = {}): Promise<TestEnv> {
  const t0 = await testEnv();
  const file = join(t0.dataDir, 'zimage.yml');
  writeFileSync(file, settings);
  cleanups.push(() => t0.cleanup());
  return testEnv({ ...extra, CONFIG_FILE: file, DATA_DIR: t0.dataDir, QUEUE_PREFIX: t0.prefix });
}

async function ask(pg: PlaygroundClient, user: string, text: string): Promise<string> {
  const { threadId } = await pg.post(user, text);
  return botReplies(await pg.waitFor(threadId, (m) => botReplies(m).length >= 1))[0]!.text;
}

describe('per-person bounds', () => {
  it('a person with the most waiting jobs is told how many and how to cancel; nothing is queued or charged; a role without a bound is not held', async () => {
    const t = await env('quota:\n  default: 100/day\n  maxWaiting: 3\n  admins: ["playground:local:boss"]\n  roles:\n    power: { maxWaiting: unlimited }\n');
    const bot = await startBot(t);
    cleanups.push(() => bot.stop());
    const pg = new PlaygroundClient(`http://127.0.0.1:${bot.boundPort}`);
    const who = { platform: 'playground', workspace: 'local', user: 'wes' };
    for (let i = 0; i < 3; i++) expect(await ask(pg, 'wes', `/zimage waiting ${i} --size 256x256`)).toMatch(/^Queued/);
    expect(await ask(pg, 'wes', '/zimage one too many --size 256x256')).toBe(
      'You already have 3 jobs waiting (at most 3 at a time). Nothing was queued or charged: wait for some to finish, or cancel one with the Cancel button under its status.');
    expect(await bot.queues.generate.count()).toBe(3);
    expect((await bot.quota.standing(who)).used).toBe(3);
    // Someone else is not affected; a role with no bound (set by an admin) is not held either.
    expect(await ask(pg, 'ivy', '/zimage mine --size 256x256')).toMatch(/^Queued/);
    expect(await ask(pg, 'boss', '/zimage role set @wes power')).toMatch(/^Done/);
    expect(await ask(pg, 'wes', '/zimage now allowed --size 256x256')).toMatch(/^Queued/);
    expect(await bot.queues.generate.count()).toBe(5);
    const metrics = await (await fetch(`${pg.base}/metrics`)).text();
    expect(metrics).toMatch(/zimage_quota_refusals_total\{platform="playground",reason="too_many_waiting"\} 1/);
  });

  it('commands beyond the rate limit are refused once with a message, then dropped; nothing queued or charged', async () => {
    const t = await env('quota:\n  default: 100/day\n  commandsPerMinute: 4\n');
    const bot = await startBot(t);
    cleanups.push(() => bot.stop());
    const base = `http://127.0.0.1:${bot.boundPort}`;
    const pg = new PlaygroundClient(base);
    const threads: string[] = [];
    for (let i = 0; i < 8; i++) {
      const res = await pgPost(base, '/api/playground/messages', { user: 'fast', text: i % 2 ? '/zimage help' : `/zimage burst ${i} --size 256x256` });
      threads.push(((await res.json()) as { threadId: string }).threadId);
    }
    // The first four are answered (jobs or help); the fifth says why it is refused; the rest get nothing.
    const fifth = botReplies(await pg.waitFor(threads[4]!, (m) => botReplies(m).length >= 1))[0]!.text;
    expect(fifth).toMatch(/^Too many commands: at most 4 a minute\. Nothing was queued or charged; try again in \d+ s\.$/);
    for (const th of threads.slice(0, 4)) await pg.waitFor(th, (m) => botReplies(m).length >= 1);
    // An explicit signal that every command was handled: the refusals are counted.
    const until = Date.now() + 10_000;
    let metrics = '';
    while (Date.now() < until && !/reason="rate_limited"\} 4/.test(metrics)) metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/zimage_quota_refusals_total\{platform="playground",reason="rate_limited"\} 4/);
    for (const th of threads.slice(5)) expect(botReplies(await pg.thread(th))).toHaveLength(0);
    expect(await bot.queues.generate.count()).toBe(2);
    expect((await bot.quota.standing({ platform: 'playground', workspace: 'local', user: 'fast' })).used).toBe(2);
    // Someone else is not held by it.
    expect(await ask(pg, 'slow', '/zimage calm --size 256x256')).toMatch(/^Queued/);
  });
});

describe('fair share across workspaces', () => {
  let s: SlackTestBot | undefined;
  afterEach(async () => { await s?.close(); s = undefined; });

  it('300 new Playground names do not push a Slack user’s first job behind them', async () => {
    s = await startSlackBot({ PLAYGROUND: 'true' });
    const base = `http://127.0.0.1:${s.bot.boundPort}`;
    const flood = [];
    for (let i = 0; i < 300; i++) flood.push(pgPost(base, '/api/playground/messages', { user: `sybil${i}`, text: `/zimage flood ${i} --size 256x256` }));
    await Promise.all(flood);
    const until = Date.now() + 30_000;
    while ((await s.bot.queues.generate.count()) < 300 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(await s.bot.queues.generate.count()).toBe(300);
    await s.send(slashCommand('a real person --size 256x256'), FORM);
    while ((await s.bot.queues.generate.count()) < 301 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    const order = await s.bot.queues.generate.getRanges(['wait', 'prioritized'], 0, -1, true);
    const jobs = await Promise.all(order.map((id) => s!.bot.queues.generate.getJob(id)));
    const platforms = jobs.map((j) => j!.data.origin.platform);
    // Slot 1 of round 1 in its workspace: right behind the flood's first job, not behind all 300.
    expect(platforms.indexOf('slack')).toBeLessThanOrEqual(1);
    expect(platforms.filter((p) => p === 'playground')).toHaveLength(300);
  }, 60_000);
});

describe('Playground history', () => {
  it('is trimmed by count and by age, whole threads at a time, oldest first', async () => {
    const t = await testEnv();
    cleanups.push(() => t.cleanup());
    const bot = await startBot(t);
    cleanups.push(() => bot.stop());
    const store = new PlaygroundStore(bot.redis, t.prefix, { maxMessages: 10, maxAgeMs: 3600_000 });
    const now = Date.now();
    const old = await store.add({ user: 'ann', text: 'from yesterday' });
    await bot.redis.hset(`${t.prefix}:playground:msgs`, old.id, JSON.stringify({ ...old, createdAt: now - 86_400_000 }));
    const threads = [];
    for (let i = 0; i < 6; i++) {
      const parent = await store.add({ user: 'ann', text: `thread ${i}` });
      await store.add({ user: 'zimage', text: 'reply', threadId: parent.threadId });
      threads.push(parent.threadId);
    }
    expect(await store.trim(now)).toBe(1 + 2 * 1);
    // 13 messages were there: the day-old thread went for its age, the oldest thread of the rest for the count.
    expect(await store.thread(old.threadId)).toBeNull();
    expect(await store.thread(threads[0]!)).toBeNull();
    expect(await store.thread(threads[1]!)).toHaveLength(2);
    expect(await bot.redis.hlen(`${t.prefix}:playground:msgs`)).toBe(10);
    // A reply to a trimmed thread is not stored (nothing would show it).
    await store.add({ user: 'zimage', text: 'late', threadId: threads[0]! });
    expect(await store.thread(threads[0]!)).toBeNull();
    expect(await bot.redis.hlen(`${t.prefix}:playground:msgs`)).toBe(10);
  });
});
