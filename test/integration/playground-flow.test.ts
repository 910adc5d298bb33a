import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlaygroundStore, type PlaygroundEvent } from '../../adapters/playground/store.js';
import type { BotApp } from '../../src/app/bot-app.js';
import { createRedis } from '../../src/infra/redis.js';
import type { ImageMetadata } from '../../src/jobs/types.js';
import type { WorkerApp } from '../../worker/worker-app.js';
import { readEmbeddedMetadata } from '../../worker/xmp.js';
import {
  botReplies, finished, images, PlaygroundClient, REDIS_URL, startBot, startWorker, statusOf, testEnv, type TestEnv,
} from '../helpers/harness.js';

describe('Playground: a command becomes an image in its thread', () => {
  let t: TestEnv;
  let bot: BotApp;
  let worker: WorkerApp;
  let pg: PlaygroundClient;

  beforeAll(async () => {
    t = await testEnv();
    bot = await startBot(t);
    worker = await startWorker(t);
    pg = new PlaygroundClient(`http://127.0.0.1:${bot.boundPort}`);
  });
  afterAll(async () => {
    await bot?.stop();
    await worker?.stop();
    t?.cleanup();
  });

  it('answers in the thread with one status message, then the image and its metadata', async () => {
    const { threadId, messageId } = await pg.post('alice', '/zimage a ginger cat on a windowsill --seed 7 --size 512x512');
    expect(threadId).toBe(messageId);
    const thread = await pg.waitFor(threadId, finished(1));
    expect(thread[0]).toMatchObject({ user: 'alice', text: '/zimage a ginger cat on a windowsill --seed 7 --size 512x512' });
    const replies = botReplies(thread);
    expect(replies).toHaveLength(2); // one status message (edited in place) + one image
    expect(statusOf(thread)!.text).toMatch(/^Done/);
    const [img] = images(thread);
    expect(img!.metadata).toMatchObject({
      prompt: 'a ginger cat on a windowsill', seed: 7, width: 512, height: 512, steps: 8,
      model: { name: 'demo model', demo: true }, user: 'alice', platform: 'playground',
    });
    expect(img!.metadata!.queueWaitMs).toBeGreaterThanOrEqual(0);
    expect(img!.metadata!.generationMs).toBeGreaterThan(0);
    expect(img!.metadata!.jobId).toMatch(/^j[0-9a-z]+$/);
    const res = await fetch(`${pg.base}${img!.imageUrl}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    const png = Buffer.from(await res.arrayBuffer());
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(await readEmbeddedMetadata(png)).toMatchObject({ prompt: 'a ginger cat on a windowsill', seed: 7, jobId: img!.metadata!.jobId });
  });

  it('an image posted again (a delivery retried after its "posted" mark was lost) appears once', async () => {
    const { threadId } = await pg.post('abe', '/zimage a heron --size 256x256 --steps 1');
    const thread = await pg.waitFor(threadId, finished(1));
    const [img] = images(thread);
    const playground = bot.adapters.get('playground')!;
    const metadata = img!.metadata as unknown as ImageMetadata;
    await playground.postImage(`playground:${threadId}`, { read: async () => Buffer.alloc(0), filename: 'x.png', metadata, assetKey: img!.imageUrl!.replace('/assets/', '') }, 'en');
    const after = await pg.thread(threadId);
    expect(images(after)).toHaveLength(1);
    expect(after).toHaveLength(thread.length);
  });

  it('the bot\'s pages see a new message while it is being stored, and lose it again if it cannot be stored', async () => {
    const redis = createRedis(REDIS_URL());
    const store = new PlaygroundStore(redis, t.prefix);
    const seen: Array<{ type: PlaygroundEvent['type']; id: string; stored: boolean }> = [];
    let stored = false;
    store.onWritten = (ev) => seen.push({ type: ev.type, id: ev.message.id, stored });
    const m = await store.add({ user: 'zoe', text: 'hello' });
    stored = true;
    expect(seen).toEqual([{ type: 'message', id: m.id, stored: false }]);
    expect(await store.get(m.id)).toMatchObject({ text: 'hello', threadId: m.id });

    redis.disconnect();
    seen.length = 0;
    stored = false;
    await expect(store.add({ user: 'zoe', text: 'lost', id: 'm-lost' })).rejects.toThrow();
    expect(seen).toEqual([{ type: 'message', id: 'm-lost', stored: false }, { type: 'remove', id: 'm-lost', stored: false }]);
  });

  it('--count 2 makes two images with consecutive seeds', async () => {
    const { threadId } = await pg.post('bob', '/zimage two foxes --seed 41 --count 2 --size 256x256 --steps 2');
    const thread = await pg.waitFor(threadId, finished(2));
    expect(images(thread).map((m) => m.metadata!.seed).sort()).toEqual([41, 42]);
  });

  it('/zimage help explains the grammar and queues nothing', async () => {
    const before = await bot.queues.generate.count();
    const { threadId } = await pg.post('carol', '/zimage help');
    const thread = await pg.waitFor(threadId, (m) => botReplies(m).length === 1);
    expect(botReplies(thread)[0]!.text).toContain('--size');
    expect(await bot.queues.generate.count()).toBe(before);
  });

  it.each([
    ['/zimage a cat --size 13x7', '13x7'],
    ['/zimage a cat --szie 512x512', '--size'],
    ['/zimage --seed 3', 'nothing to draw'],
    ['/zimage a cat --count 9', '9'],
  ])('%s → a reply that points at the problem, nothing queued', async (text, expected) => {
    const jobsBefore = await bot.queues.generate.getJobCounts();
    const { threadId } = await pg.post('dave', text);
    const thread = await pg.waitFor(threadId, (m) => botReplies(m).length === 1);
    const reply = botReplies(thread)[0]!;
    expect(reply.text).toContain(expected);
    expect(reply.status).toBeUndefined();
    expect(await bot.queues.generate.getJobCounts()).toEqual(jobsBefore);
  });

  it('a prompt over the token limit is refused, quoting where it gets cut', async () => {
    const long = `${'sunset over the sea, '.repeat(60)}THE END`;
    const { threadId } = await pg.post('erin', `/zimage ${long}`);
    const thread = await pg.waitFor(threadId, (m) => botReplies(m).length === 1);
    const reply = botReplies(thread)[0]!.text;
    expect(reply).toMatch(/limit is 512/);
    // The reply quotes the end of what fits and the start of what is dropped: adjacent in the prompt.
    const m = /after “…(.+?)”, dropping “(.+?)…?”/.exec(reply);
    expect(m).not.toBeNull();
    const [, kept, dropped] = m!;
    expect(long).toContain(`${kept}${dropped!.replace(/…$/, '')}`);
    expect(await bot.queues.generate.count()).toBe(0);
  });

  it('broken unicode (a lone surrogate) is stored and answered, not a 500', async () => {
    const { threadId } = await pg.post('gil', '/zimage a cat \ud800 on a mat --size 256x256 --steps 1');
    const thread = await pg.waitFor(threadId, finished(1));
    expect(thread[0]!.text).toBe('/zimage a cat \ufffd on a mat --size 256x256 --steps 1');
    expect(images(thread)[0]!.metadata!.prompt).toBe('a cat \ufffd on a mat');
  });

  it('a platform retry of the same event creates one job', async () => {
    const { threadId } = await pg.post('frank', 'just chatting');
    const request = {
      platform: 'playground', workspace: 'local', channel: 'general', thread: `playground:${threadId}`,
      user: 'frank', text: 'a retried request --size 256x256 --steps 1', eventId: `evt-${threadId}`,
    };
    await Promise.all([bot.intake.handle(request), bot.intake.handle(request), bot.intake.handle(request)]);
    const thread = await pg.waitFor(threadId, finished(1));
    expect(images(thread)).toHaveLength(1);
    expect(botReplies(thread)).toHaveLength(2);
  });
});
