import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EDIT_WINDOW_MS, LarkAdapter } from '../../adapters/lark/lark-adapter.js';
import { readLarkSettings } from '../../adapters/lark/lark-settings.js';
import { decodeMessage, encodeMessage } from '../../adapters/lark/refs.js';
import type { ActionResult, BotAction, BotRequest, DeliveredImage } from '../../src/chat/types.js';
import { loadConfig } from '../../src/config.js';
import { isZimageError } from '../../src/errors.js';
import { HttpServer } from '../../src/http/server.js';
import { createLogger } from '../../src/infra/logger.js';
import { APP_ID, BOT_OPEN_ID, botMention, cardActionEvent, FakeLark, messageEvent, TENANT, THROTTLED } from '../helpers/lark-fake.js';
import type * as lark from '@larksuiteoapi/node-sdk';

const thread = `lark:${TENANT}:oc_group00000000000000000000000001:om_root0001`;
const image = (index = 0): DeliveredImage => ({
  read: async () => Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), filename: `j1-${index}.png`, assetKey: `x/j1-${index}.png`,
  metadata: {
    jobId: 'jadapter1', index, prompt: 'a teapot', seed: 5, width: 256, height: 256, steps: 2, model: { id: 'demo', name: 'demo model', demo: true },
    platform: 'lark', workspace: TENANT, channel: 'oc_group00000000000000000000000001', user: 'ou_a', createdAt: new Date().toISOString(), queueWaitMs: 1, generationMs: 2,
  },
});

describe('Lark adapter against a fake open platform (open.larksuite.com), long-connection mode', () => {
  const fake = new FakeLark('https://open.larksuite.com');
  const requests: BotRequest[] = [];
  const actions: BotAction[] = [];
  let answer: () => Promise<ActionResult> = async () => ({ ok: true, message: 'Cancelled' });
  let adapter: LarkAdapter;
  let dispatcher: lark.EventDispatcher | undefined;
  let closed = false;
  let now = Date.now();

  beforeAll(async () => {
    nock.disableNetConnect();
    nock.enableNetConnect(/127\.0\.0\.1|localhost/);
    fake.install();
    const config = loadConfig({ CONFIG_FILE: '', LARK_APP_ID: APP_ID, LARK_APP_SECRET: 'app-secret-value', LARK_DOMAIN: 'lark', LARK_LOCALE: 'en' });
    adapter = new LarkAdapter({
      settings: readLarkSettings(config), http: new HttpServer(createLogger('silent')),
      log: createLogger(process.env.LARK_TEST_LOG ?? 'silent'),
      openConnection: async (d) => { dispatcher = d; return { close: () => { closed = true; } }; },
      actionAnswerMs: 200, now: () => now,
    });
    await adapter.start({
      onRequest: async (r) => { requests.push(r); },
      onAction: async (a) => { actions.push(a); return answer(); },
    });
  });
  afterAll(async () => {
    await adapter?.stop();
    expect(closed).toBe(true);
    nock.cleanAll();
    nock.enableNetConnect();
  });

  it('starts the long connection with its dispatcher, having read the bot identity once', () => {
    expect(dispatcher).toBe(adapter.dispatcher);
    expect(fake.tokenCalls).toBe(1);
  });

  it('a v2 message event through the dispatcher reaches the core as a BotRequest', async () => {
    const ev = messageEvent({ text: '@_user_1 a kite --seed 1', mentions: [botMention()] });
    const ret = await dispatcher!.invoke(ev, { needCheck: false });
    expect(ret).toBeUndefined();
    expect(requests.at(-1)).toMatchObject({ platform: 'lark', workspace: TENANT, text: 'a kite --seed 1', eventId: (ev.header as { event_id: string }).event_id, locale: 'en' });
    expect(BOT_OPEN_ID).toMatch(/^ou_/);
  });

  it('a card click is answered with the core result as a toast, or "working on it" when the core is slow', async () => {
    const value = { zimage: 'cancel', job: 'j1', thread: `lark:${TENANT}:oc_group00000000000000000000000001:om_root0001` };
    expect(await dispatcher!.invoke(cardActionEvent(value), { needCheck: false })).toEqual({ toast: { type: 'success', content: 'Cancelled' } });
    expect(actions.at(-1)).toMatchObject({ kind: 'cancel', jobId: 'j1', user: 'ou_alice0000000000000000000000001' });
    answer = () => new Promise((ok) => setTimeout(() => ok({ ok: true, message: 'late' }), 600));
    expect(await dispatcher!.invoke(cardActionEvent(value), { needCheck: false })).toEqual({ toast: { type: 'info', content: 'Working on it…' } });
    answer = async () => { throw new Error('redis down'); };
    expect(await dispatcher!.invoke(cardActionEvent(value), { needCheck: false })).toMatchObject({ toast: { type: 'error' } });
  });

  it('a throttled reply fails at once; sent again (the core\'s retry) it carries the same uuid and posts once', async () => {
    fake.replyFailures.push(THROTTLED, [429, { code: 99991400, msg: 'too many requests' }]);
    const first = await adapter.reply(thread, 'hello\nworld').catch((e: unknown) => e);
    expect(isZimageError(first, 'RATE_LIMITED')).toBe(true);
    const second = await adapter.reply(thread, 'hello\nworld').catch((e: unknown) => e);
    expect(isZimageError(second, 'RATE_LIMITED')).toBe(true);
    const sent = fake.sent.length;
    const ref = await adapter.reply(thread, 'hello\nworld');
    expect(fake.replyFailures).toHaveLength(0);
    expect(fake.sent.length).toBe(sent + 1);
    const [a, b, c] = fake.replyUuids.slice(-3);
    expect(a).toBeTruthy();
    expect([b, c]).toEqual([a, a]);
    // Once posted, the same text again is a new reply (a person may ask twice).
    await adapter.reply(thread, 'hello\nworld');
    expect(fake.replyUuids.at(-1)).not.toBe(a);
    expect(fake.sent.length).toBe(sent + 2);
    const msg = fake.sent.at(-2)!;
    expect(decodeMessage(ref).message).toBe(msg.id);
    expect(msg).toMatchObject({ msgType: 'post', root: 'om_root0001', replyInThread: true });
    expect(msg.content).toEqual({ zh_cn: { content: [[{ tag: 'text', text: 'hello' }], [{ tag: 'text', text: 'world' }]] } });
  });

  it('a refusal is not retried and says what Lark said', async () => {
    const sent = fake.sent.length;
    fake.replyFailures.push([400, { code: 230002, msg: 'Bot/User can NOT be out of the chat.' }], [400, { code: 230002, msg: 'again' }]);
    const err = await adapter.reply(thread, 'x').catch((e: unknown) => e);
    expect(isZimageError(err, 'CANNOT_POST')).toBe(true);
    expect((err as Error).message).toContain('Bot/User can NOT be out of the chat. (code 230002)');
    expect(fake.replyFailures).toHaveLength(1);
    fake.replyFailures.length = 0;
    expect(fake.sent.length).toBe(sent);
  });

  it('a throttled card patch surfaces as RATE_LIMITED with the wait Lark asks for', async () => {
    const ref = await adapter.postStatus(thread, { phase: 'queued', jobId: 'jp1', position: 1, total: 1, etaMs: null }, 'en');
    fake.patchFailures.push([429, { code: 99991400, msg: 'slow down' }, { 'x-ogw-ratelimit-reset': '3' }] as never);
    const err = await adapter.updateStatus(ref, { phase: 'generating', jobId: 'jp1', image: 1, count: 1, step: 1, steps: 8 }, 'en').catch((e: unknown) => e);
    expect(isZimageError(err, 'RATE_LIMITED')).toBe(true);
    expect((err as { retryAfterMs: number }).retryAfterMs).toBe(3000);
    await adapter.updateStatus(ref, { phase: 'generating', jobId: 'jp1', image: 1, count: 1, step: 2, steps: 8 }, 'en');
    expect(FakeLark.title(fake.patches.at(-1)!.card)).toBe('Generating — step 2/8');
  });

  it('a card older than the 14-day edit window is MESSAGE_NOT_EDITABLE without asking Lark; its replacement is a new card', async () => {
    const queuedView = { phase: 'queued', jobId: 'jold', position: 9, total: 9, etaMs: null } as const;
    const ref = await adapter.postStatus(thread, queuedView, 'en');
    const first = decodeMessage(ref).message;
    const patches = fake.patches.length;
    const requests = fake.requests.length;
    now += EDIT_WINDOW_MS + 1000;
    const err = await adapter.updateStatus(ref, { phase: 'queued', jobId: 'jold', position: 1, total: 1, etaMs: null }, 'en').catch((e: unknown) => e);
    expect(isZimageError(err, 'MESSAGE_NOT_EDITABLE')).toBe(true);
    expect((err as Error).message).toContain('14-day edit window');
    expect(fake.requests.length).toBe(requests);
    // The status tracker posts the replacement (src/status/replace-message.ts); the same post again is the same card.
    const renewedRef = await adapter.postStatus(thread, queuedView, 'en', { replaces: ref });
    expect(await adapter.postStatus(thread, queuedView, 'en', { replaces: ref })).toBe(renewedRef);
    // Without `replaces` the job's own uuid answers with the first card.
    expect(decodeMessage(await adapter.postStatus(thread, queuedView, 'en')).message).toBe(first);
    const renewed = decodeMessage(renewedRef).message;
    expect(renewed).not.toBe(first);
    expect(fake.sent.filter((m) => m.id === renewed)).toHaveLength(1);
    await adapter.updateStatus(renewedRef, { phase: 'done', jobId: 'jold', images: 1, totalMs: 5000 }, 'en');
    expect(fake.patches.length).toBe(patches + 1);
    expect(fake.patches.at(-1)!.id).toBe(renewed);
    expect(FakeLark.title(fake.patches.at(-1)!.card)).toMatch(/^Done/);
    now = Date.now();
  });

  it('an upload answered without an image_key fails at once (the deliver queue retries); the retry posts the image once', async () => {
    fake.uploadFailures.push([200, { code: 234001, msg: 'Invalid request param.' }]);
    const err = await adapter.postImage(thread, image(0), 'en').catch((e: unknown) => e);
    expect(isZimageError(err, 'PLATFORM_UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toMatch(/no image_key/);
    expect(fake.uploadFailures).toHaveLength(0);
    const uploads = fake.uploads.length;
    await adapter.postImage(thread, image(0), 'en');
    expect(fake.uploads.length).toBe(uploads + 1);
    const [img, card] = fake.sent.slice(-2);
    expect(img).toMatchObject({ msgType: 'image', root: 'om_root0001', content: { image_key: `img_v3_fake${fake.uploads.length}` } });
    expect(card!.msgType).toBe('interactive');
    expect(JSON.stringify(card!.content)).toContain('"zimage":"variations","job":"jadapter1"');
    // Delivered again (a retried delivery): Lark's uuid keeps the thread free of duplicates.
    const sent = fake.sent.length;
    await adapter.postImage(thread, image(0), 'en');
    expect(fake.sent.length).toBe(sent);
  });

  it('an image Lark refuses to post is explained in the thread in plain words', async () => {
    fake.replyFailures.push([400, { code: 230028, msg: 'The messages do NOT pass the audit.' }]);
    await adapter.postImage(thread, image(2), 'en');
    const note = fake.sent.at(-1)!;
    expect(note.msgType).toBe('post');
    expect(JSON.stringify(note.content)).toContain('The picture is ready, but Lark refused to post it here');
    expect(JSON.stringify(note.content)).toContain('The messages do NOT pass the audit. (code 230028)');
  });

  it('reads a person\'s departments for roles bound to the directory', async () => {
    fake.departments.set('ou_dana', ['od-marketing', 'od-design']);
    expect(await adapter.userGroups(TENANT, 'ou_dana')).toEqual(['od-marketing', 'od-design']);
    expect(await adapter.userGroups(TENANT, 'ou_nobody')).toEqual([]);
  });

  it('starts a thread for scheduled runs with a top-level message', async () => {
    const ref = await adapter.startThread(TENANT, 'oc_group00000000000000000000000001', 'Daily poster');
    const msg = fake.sent.at(-1)!;
    expect(msg).toMatchObject({ chat: 'oc_group00000000000000000000000001', msgType: 'post' });
    expect(ref).toBe(`lark:${TENANT}:oc_group00000000000000000000000001:${msg.id}`);
    expect(encodeMessage({ ...decodeMessage(`${ref}:om_x:1`) })).toBe(`${ref}:om_x:1`);
    expect(fake.tokenCalls).toBe(1);
  });
});

describe('Lark adapter start: the bot-info call (and with it the first tenant token)', () => {
  const fake = new FakeLark('https://open.feishu.cn');
  beforeAll(() => {
    nock.disableNetConnect();
    fake.install();
  });
  afterAll(() => {
    nock.cleanAll();
    nock.enableNetConnect();
  });
  const make = () => new LarkAdapter({
    settings: readLarkSettings(loadConfig({ CONFIG_FILE: '', LARK_APP_ID: APP_ID, LARK_APP_SECRET: 'app-secret-value', LARK_DOMAIN: 'feishu' })),
    http: new HttpServer(createLogger('silent')), log: createLogger('silent'), openConnection: async () => ({ close: () => undefined }),
  });
  const inbound = { onRequest: async () => undefined, onAction: async () => ({ ok: true, message: '' }) };

  it('a passing outage is tried again (three tries in all); a refusal stops the start at once', async () => {
    fake.botInfoFailures.push([503, { msg: 'service unavailable' }]);
    const adapter = make();
    await adapter.start(inbound);
    await adapter.stop();
    expect(fake.requestsTo('botInfo').map((r) => r.status)).toEqual([503, 200]);
    fake.botInfoFailures.push('network', [502, { msg: 'bad gateway' }], [503, { msg: 'service unavailable' }]);
    await expect(make().start(inbound)).rejects.toMatchObject({ code: 'PLATFORM_UNAVAILABLE' });
    fake.botInfoFailures.push([400, { code: 10014, msg: 'app secret invalid' }]);
    await expect(make().start(inbound)).rejects.toMatchObject({ code: 'PLATFORM_REJECTED', message: expect.stringContaining('app secret invalid') });
    expect(fake.requestsTo('botInfo').map((r) => r.status)).toEqual([503, 200, 0, 502, 503, 400]);
  });
});
