/**
 * The image library in chat, end to end in the Playground (real bot and worker on the demo model, real Redis,
 * the index on PostgreSQL): `/zimage history [words]` and `/zimage find <words>` answer privately with the
 * matching images and gallery links; `/zimage usage week` posts the usage chart in the thread; a manager's
 * scheduled usage report posts last week's figures and chart into a new thread.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BotApp } from '../../src/app/bot-app.js';
import { windowAt } from '../../src/quota/windows.js';
import { GalleryBrowser } from '../helpers/gallery-browser.js';
import { finished, startBot, startWorker, testEnvWithSettings, type PgMessage, type PlaygroundClient, PlaygroundClient as Client, type TestEnv } from '../helpers/harness.js';
import { storedImage } from '../helpers/library-fixtures.js';
import { pgFetch } from '../helpers/playground-http.js';
import type { WorkerApp } from '../../worker/worker-app.js';

describe('the image library in chat', () => {
  let t: TestEnv;
  let bot: BotApp;
  let worker: WorkerApp;
  let pg: PlaygroundClient;
  let base: string;

  beforeAll(async () => {
    t = await testEnvWithSettings('quota:\n  admins: ["playground:local:boss"]\n');
    bot = await startBot(t);
    worker = await startWorker(t);
    pg = new Client(`http://127.0.0.1:${bot.boundPort}`);
    base = `http://localhost:${bot.boundPort}`;
    for (const [who, prompt] of [['Alice', 'a red fox poster'], ['Alice', '蓝色科技感手机海报'], ['Bob', 'summer sale poster']] as const) {
      const { threadId } = await pg.post(who, `/zimage ${prompt} --size 256x256 --steps 1 --seed 3`);
      await pg.waitFor(threadId, finished(1), 60_000);
    }
  });
  afterAll(async () => {
    await bot?.stop();
    await worker?.stop();
    t?.cleanup();
  });

  /** The thread as one person's browser session shows it, once the bot has answered `n` times. */
  async function answers(person: string, threadId: string, n = 1): Promise<PgMessage[]> {
    for (const until = Date.now() + 20_000; ; await sleep(50)) {
      const res = await pgFetch(pg.base, `/api/playground/threads/${threadId}`, {}, person);
      const replies = ((await res.json()) as { messages: PgMessage[] }).messages.filter((m) => m.user === 'zimage' && m.id !== threadId);
      if (replies.length >= n || Date.now() > until) return replies;
    }
  }

  async function ask(person: string, text: string, n = 1): Promise<{ threadId: string; replies: PgMessage[] }> {
    const { threadId } = await pg.post(person, text);
    return { threadId, replies: await answers(person, threadId, n) };
  }

  it('/zimage history: my last images, privately, with links into the gallery', async () => {
    const { threadId, replies: [answer] } = await ask('Alice', '/zimage history');
    expect(answer!.privateTo).toBe('alice');
    const lines = answer!.text.split('\n');
    expect(lines[0]).toBe('Your latest images — 2 of 2:');
    expect(lines[1]).toMatch(/^• \d{4}-\d\d-\d\d \d\d:\d\d · the Playground · 蓝色科技感手机海报$/);
    expect(lines[2]).toMatch(new RegExp(`^  ${base}/gallery\\?image=j[0-9a-z]+-0$`));
    expect(lines[3]).toMatch(/· a red fox poster$/);
    expect(answer!.text).not.toContain('summer sale');
    expect(answer!.text).toContain(`All of them in the gallery: ${base}/gallery?person=alice`);
    // Bob's browser sees no answer in Alice's thread.
    expect(await answers('Bob', threadId, 0)).toEqual([]);
    // Its sign-in link leads into the gallery, filtered to her images.
    const signIn = /This link signs you in \(once, within 10 minutes\): (\S+)/.exec(answer!.text)![1]!;
    const browser = new GalleryBrowser(base);
    const { answer: pressed } = await browser.signIn(signIn);
    expect(pressed!.headers.get('location')).toBe('/gallery?person=alice');
    const page = await browser.json<{ total: number }>('/api/gallery/images?person=alice');
    expect(page.body.total).toBe(2);
  });

  it('/zimage history <words> and /zimage find <words>: matching images, any script', async () => {
    expect((await ask('Alice', '/zimage history fox')).replies[0]!.text).toMatch(/^Your images matching “fox” — 1 of 1:\n• .* · a red fox poster\n/);
    expect((await ask('Alice', '/zimage history 海报')).replies[0]!.text).toMatch(/^Your images matching “海报” — 1 of 1:/);
    // find: everything Alice may see — the Playground is one shared channel, so Bob's poster too.
    const found = (await ask('Alice', '/zimage find poster')).replies[0]!.text;
    expect(found).toMatch(/^Images matching “poster” — 2 of 2:/);
    expect(found).toContain('summer sale poster');
    expect((await ask('Alice', '/zimage find zebra')).replies[0]!.text).toBe('No image you may see matches “zebra”.');
    expect((await ask('Alice', '/zimage find')).replies[0]!.text).toMatch(/^Write what to look for, e\.g\. \/zimage find poster/);
    expect((await ask('Carol', '/zimage history')).replies[0]!.text).toMatch(/^You have no images yet\./);
    // A search of any length: the first 200 characters count, the answer is still an answer.
    expect((await ask('Alice', `/zimage find fox ${'x'.repeat(5000)}`)).replies[0]!.text).toMatch(/^No image you may see matches “fox x+…”\.$/);
  });

  it('/zimage usage week (managers) posts the usage chart in the thread after its figures', async () => {
    const { threadId, replies } = await ask('boss', '/zimage usage week', 2);
    expect(replies[0]!.text).toMatch(/^Usage this week — 3 in all/);
    const file = replies[1]!.file!;
    expect(file).toMatchObject({ title: 'Usage this week' });
    const res = await pgFetch(pg.base, file.url, {}, 'boss');
    expect(res.headers.get('content-type')).toBe('image/png');
    const png = Buffer.from(await res.arrayBuffer());
    const meta = await sharp(png).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 2400, 1800]);
    const stats = await sharp(png).stats();
    expect(stats.channels.some((c) => c.stdev > 10)).toBe(true); // not a blank picture
    expect((await answers('boss', threadId, 2)).length).toBe(2);
    // Members get the refusal, and no chart.
    const refused = await ask('Alice', '/zimage usage week');
    expect(refused.replies.map((m) => m.text)).toEqual(['Only managers can do that. Ask a manager or an admin.']);
  });

  it('generate again from the gallery: a new Playground thread, same prompt and seed, charged to whoever asked', async () => {
    const bob = new GalleryBrowser(base);
    await bob.signIn(await bot.gallery.signInLink({ platform: 'playground', workspace: 'local', user: 'bob', userName: 'Bob' }));
    const { body } = await bob.json<{ images: Array<{ id: string; prompt: string; user: string }> }>('/api/gallery/images?q=fox');
    const fox = body.images[0]!;
    expect(fox.user).toBe('alice');
    const id = { platform: 'playground', workspace: 'local', user: 'bob' };
    const before = (await bot.quota.standing(id)).used;
    const res = await bob.json<{ ok: boolean; message: string; jobId: string }>(`/api/gallery/images/${fox.id}/again`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect(res.body.message).toMatch(/posted in a new Playground thread/);
    let thread: PgMessage | undefined;
    for (const until = Date.now() + 10_000; !thread && Date.now() < until; await sleep(50)) {
      const top = ((await (await pgFetch(pg.base, '/api/playground/messages', {}, 'Bob')).json()) as { messages: PgMessage[] }).messages;
      thread = top.find((m) => m.text === 'Generate again (from the gallery): a red fox poster');
    }
    const [image] = (await pg.waitFor(thread!.id, finished(1), 60_000)).filter((m) => m.imageUrl);
    expect(image!.metadata).toMatchObject({ prompt: 'a red fox poster', seed: 3, width: 256, height: 256, user: 'bob', channelKind: 'playground' });
    expect((await bot.quota.standing(id)).used).toBe(before + 1);
    // Over quota: refused with the quota's words, in the answer and in the new thread; nothing charged.
    await bot.quota.store.setOverride({ platform: 'playground', workspace: 'local' }, 'user:bob', { unlimited: false, amount: before + 1, period: 'day' });
    const refused = await bob.json<{ error: { code: string; message: string } }>(`/api/gallery/images/${fox.id}/again`, { method: 'POST' });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(/^Over quota: this needs 1 image, and you have used \d+ of \d+ today\./);
    expect((await bot.quota.standing(id)).used).toBe(before + 1);
  });

  it('a scheduled usage report posts last week\'s figures and chart into a new thread', async () => {
    // Last week's images, as the index has them.
    const lastWeek = windowAt('week', 'UTC', windowAt('week', 'UTC', Date.now()).start - 1);
    await bot.library.record([0, 1, 2].map((i) => storedImage({
      jobId: `jlastwk${i}`, platform: 'playground', workspace: 'local', channel: 'general', channelKind: 'playground', user: 'alice',
      template: i === 0 ? { id: 'poster', version: 'v1' } : null, at: new Date(lastWeek.start + (i + 1) * 3600_000).toISOString(),
    })));
    expect((await ask('boss', '/zimage schedule add "0 9 * * 1" usage fortnight')).replies[0]!.text).toMatch(/^Scheduled generations \(managers\):/);
    const added = (await ask('boss', '/zimage schedule add "0 9 * * 1" usage week')).replies[0]!.text;
    expect(added).toMatch(/^Scheduled (s[0-9a-f]{6}): usage week, “0 9 \* \* 1”, into #general\. Next run: /);
    const id = /Scheduled (s[0-9a-f]+)/.exec(added)![1]!;
    expect((await ask('boss', '/zimage schedule list')).replies[0]!.text).toContain(`${id} · "0 9 * * 1" UTC · usage week · #general`);
    // Mondays at 9 are far away: the same schedule re-armed to fire every second (the runner runs whatever fires).
    const def = (await bot.scheduleStore.get(id))!;
    await bot.schedules.add({ ...def, cron: '*/1 * * * * *' });
    let thread: string | undefined;
    for (const until = Date.now() + 20_000; !thread && Date.now() < until; await sleep(100)) {
      const res = await pgFetch(pg.base, '/api/playground/messages', {}, 'boss');
      const top = ((await res.json()) as { messages: PgMessage[] }).messages;
      thread = top.find((m) => m.user === 'zimage' && m.text === `Scheduled: usage (${id}, run 1)`)?.id;
    }
    expect(thread).toBeDefined();
    await bot.schedules.remove(def);
    const [summary, chart] = await answers('boss', thread!, 2);
    const from = new Date(lastWeek.start).toISOString().slice(0, 10);
    const to = new Date(lastWeek.end - 1).toISOString().slice(0, 10);
    expect(summary!.text.split('\n')).toEqual([
      `Usage report ${from} – ${to}: 3 images`,
      'By channel: #general 3',
      expect.stringMatching(/^Wait in line: median 1\.2 s, p95 1\.2 s \(worst day\)$/),
      'Top templates: free prompt 2 · poster 1',
    ]);
    expect(chart!.file!.title).toBe(`Usage report ${from} – ${to}: 3 images`);
    const png = Buffer.from(await (await pgFetch(pg.base, chart!.file!.url, {}, 'boss')).arrayBuffer());
    expect((await sharp(png).metadata()).format).toBe('png');
  });
});
