import nock from 'nock';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BotApp } from '../../src/app/bot-app.js';
import { startBot, testEnv, type TestEnv } from '../helpers/harness.js';
import { signatureOf } from '../../adapters/lark/webhook.js';
import { LarkAdapter } from '../../adapters/lark/lark-adapter.js';
import { readLarkSettings } from '../../adapters/lark/lark-settings.js';
import { loadConfig } from '../../src/config.js';
import { HttpServer } from '../../src/http/server.js';
import { createLogger } from '../../src/infra/logger.js';
import {
  APP_ID, botMention, cardActionEvent, encryptPayload, FakeLark, messageEvent, postWebhook, signedHeaders,
} from '../helpers/lark-fake.js';

const TOKEN = 'v-token-123';
const KEY = 'encrypt-key-456';

async function until<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const v = await probe();
    if (v) return v;
    await sleep(30);
  }
  throw new Error(`timed out waiting for ${what}`);
}

const rootOf = (ev: Record<string, unknown>): string => (ev.event as { message: { message_id: string } }).message.message_id;
const jobs = async (bot: BotApp): Promise<number> => bot.queues.generate.count();

describe('Lark webhook endpoint (POST /lark/events)', () => {
  const lark = new FakeLark('https://open.feishu.cn');
  let plain: { t: TestEnv; bot: BotApp; base: string };
  let sealed: { t: TestEnv; bot: BotApp; base: string };

  async function start(extra: Record<string, string>): Promise<{ t: TestEnv; bot: BotApp; base: string }> {
    const t = await testEnv({
      PLAYGROUND: 'false', LARK_APP_ID: APP_ID, LARK_APP_SECRET: 'app-secret-value', LARK_MODE: 'webhook',
      LARK_VERIFICATION_TOKEN: TOKEN, LOG_LEVEL: process.env.LARK_TEST_LOG ?? 'silent', ...extra,
    });
    const bot = await startBot(t);
    return { t, bot, base: `http://127.0.0.1:${bot.boundPort}` };
  }

  beforeAll(async () => {
    nock.disableNetConnect();
    nock.enableNetConnect(/127\.0\.0\.1|localhost/);
    lark.install();
    plain = await start({});
    sealed = await start({ LARK_ENCRYPT_KEY: KEY });
  });
  afterAll(async () => {
    for (const s of [plain, sealed]) {
      await s?.bot.stop();
      s?.t.cleanup();
    }
    nock.cleanAll();
    nock.enableNetConnect();
  });

  it('answers the URL-verification challenge, and only with the right token', async () => {
    const ok = await postWebhook(plain.base, JSON.stringify({ challenge: 'ch-1', token: TOKEN, type: 'url_verification' }));
    expect([ok.status, ok.json]).toEqual([200, { challenge: 'ch-1' }]);
    const bad = await postWebhook(plain.base, JSON.stringify({ challenge: 'ch-2', token: 'forged', type: 'url_verification' }));
    expect(bad.status).toBe(401);
  });

  it('an event with a wrong verification token is refused and queues nothing', async () => {
    const before = await jobs(plain.bot);
    const ev = messageEvent({ text: '@_user_1 a forged cat', token: 'forged' });
    const res = await postWebhook(plain.base, JSON.stringify(ev));
    expect(res.status).toBe(401);
    expect(res.json).toMatchObject({ error: { code: 'BAD_TOKEN' } });
    // Positive control, sent after the refusal: the same kind of event with the right token gets its status card and
    // its job. Once it has them, anything the refused one had set off would be there too.
    const good = messageEvent({ text: '@_user_1 an honest cat --size 256x256', mentions: [botMention()] });
    expect((await postWebhook(plain.base, JSON.stringify(good))).status).toBe(200);
    await until('the status card', () => lark.ofType('interactive', rootOf(good))[0]);
    expect(await jobs(plain.bot)).toBe(before + 1);
    expect(lark.sent.filter((m) => m.root === rootOf(ev))).toEqual([]);
  });

  it('the same event pushed four times makes one job and one status card', async () => {
    const before = await jobs(plain.bot);
    const ev = messageEvent({ text: '@_user_1 a retried lighthouse --size 256x256', mentions: [botMention()] });
    const answers = await Promise.all([1, 2, 3, 4].map(() => postWebhook(plain.base, JSON.stringify(ev))));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    // Positive control, pushed after the four were answered: another event gets its status card and its job. It takes
    // the same path behind them, so once it has its card a re-push taken for new would have posted and queued too.
    const other = messageEvent({ text: '@_user_1 another lighthouse --size 256x256', mentions: [botMention()] });
    expect((await postWebhook(plain.base, JSON.stringify(other))).status).toBe(200);
    await until('the other event’s status card', () => lark.ofType('interactive', rootOf(other))[0]);
    expect(await jobs(plain.bot)).toBe(before + 2);
    expect(lark.ofType('interactive', rootOf(ev))).toHaveLength(1);
  });

  it('a workspace with no language configured is answered in Chinese', async () => {
    const ev = messageEvent({ text: '@_user_1 help', mentions: [botMention()] });
    await postWebhook(plain.base, JSON.stringify(ev));
    const help = await until('the help reply', () => lark.ofType('post', rootOf(ev))[0]);
    expect(JSON.stringify(help.content)).toMatch(/[\u4e00-\u9fff]/);
    expect(help.replyInThread).toBe(true);
  });

  it('card buttons over HTTP: Cancel by someone else is refused, by the requester it cancels; Regenerate queues again in the thread', async () => {
    const ev = messageEvent({ text: '@_user_1 a red bicycle --size 256x256', mentions: [botMention()] });
    const root = rootOf(ev);
    await postWebhook(plain.base, JSON.stringify(ev));
    const status = await until('the status card', () => lark.ofType('interactive', root)[0]);
    const value = (JSON.stringify(status.content).match(/"value":(\{"zimage":"cancel"[^}]*\})/) ?? [])[1];
    expect(value).toBeTruthy();
    const cancelValue = JSON.parse(value!) as { job: string };

    const other = await postWebhook(plain.base, JSON.stringify(cardActionEvent(cancelValue, { operator: 'ou_mallory000000000000000000000001' })));
    expect(other.status).toBe(200);
    expect(other.json).toMatchObject({ toast: { type: 'warning' } });
    expect(await plain.bot.queues.generate.getJob(cancelValue.job)).toBeTruthy();

    const mine = await postWebhook(plain.base, JSON.stringify(cardActionEvent(cancelValue)));
    expect(mine.json).toEqual({ toast: { type: 'success', content: '已取消，已移出队列。' } });
    expect(await plain.bot.queues.generate.getJob(cancelValue.job)).toBeUndefined();
    const patched = await until('the cancelled patch', () => lark.patches.find((p) => p.id === status.id && JSON.stringify(p.card).includes('"template":"grey"')));
    expect(JSON.stringify(patched.card)).not.toContain('"zimage":"cancel"');

    const again = await postWebhook(plain.base, JSON.stringify(cardActionEvent({ ...cancelValue, zimage: 'regenerate' })));
    expect(again.json).toMatchObject({ toast: { type: 'success' } });
    const second = await until('a new status card in the same thread', () => lark.ofType('interactive', root)[1]);
    expect(second.replyInThread).toBe(true);
    expect(JSON.stringify(second.content)).not.toContain(cancelValue.job);
  });

  it('a button value pointing at another chat is refused with a toast', async () => {
    const res = await postWebhook(plain.base, JSON.stringify(cardActionEvent({ zimage: 'cancel', job: 'j1', thread: 'lark:2ca1d211f64f6438:oc_elsewhere:om_1' })));
    expect(res.json).toMatchObject({ toast: { type: 'error' } });
  });

  describe('with an Encrypt Key', () => {
    it('answers the encrypted challenge (Lark does not sign it)', async () => {
      const body = JSON.stringify({ encrypt: encryptPayload({ challenge: 'ch-3', token: TOKEN, type: 'url_verification' }, KEY) });
      const res = await postWebhook(sealed.base, body);
      expect([res.status, res.json]).toEqual([200, { challenge: 'ch-3' }]);
    });

    it('accepts an encrypted, signed event; refuses a bad signature, an unsigned event, a plain body and a wrong token', async () => {
      const before = await jobs(sealed.bot);
      const make = (token = TOKEN) => {
        const ev = messageEvent({ text: '@_user_1 an encrypted owl --size 256x256', mentions: [botMention()], token });
        return { ev, body: JSON.stringify({ encrypt: encryptPayload(ev, KEY) }) };
      };
      const bad = make();
      const badSig = { ...signedHeaders(bad.body, KEY), 'x-lark-signature': '0'.repeat(64) };
      expect((await postWebhook(sealed.base, bad.body, badSig)).status).toBe(401);
      expect((await postWebhook(sealed.base, bad.body)).status).toBe(401);
      expect((await postWebhook(sealed.base, JSON.stringify(bad.ev))).status).toBe(400);
      const forged = make('forged');
      expect((await postWebhook(sealed.base, forged.body, signedHeaders(forged.body, KEY))).status).toBe(401);

      // Positive control, sent after the refusals: a correctly signed one is taken. Once it has its status card and
      // its job, anything the refused ones had set off would be there too: they made no job and no message.
      const good = make();
      const res = await postWebhook(sealed.base, good.body, signedHeaders(good.body, KEY));
      expect(res.status).toBe(200);
      await until('the status card', () => lark.ofType('interactive', rootOf(good.ev))[0]);
      expect(await jobs(sealed.bot)).toBe(before + 1);
      expect(lark.sent.filter((m) => m.root === rootOf(bad.ev) || m.root === rootOf(forged.ev))).toEqual([]);
    });

    it('a signed request dated more than 5 minutes from now is refused, before anything is decrypted', async () => {
      const before = await jobs(sealed.bot);
      const ev = messageEvent({ text: '@_user_1 a captured owl --size 256x256', mentions: [botMention()] });
      const body = JSON.stringify({ encrypt: encryptPayload(ev, KEY) });
      const signedAt = (offsetS: number, raw = body): Record<string, string> => {
        const timestamp = String(Math.floor(Date.now() / 1000) + offsetS);
        return { 'x-lark-request-timestamp': timestamp, 'x-lark-request-nonce': 'n0nce', 'x-lark-signature': signatureOf(timestamp, 'n0nce', KEY, Buffer.from(raw)) };
      };
      for (const offset of [-6 * 60, -3600, 6 * 60, 3600]) {
        const res = await postWebhook(sealed.base, body, signedAt(offset));
        expect([offset, res.status, (res.json.error as { code: string }).code]).toEqual([offset, 401, 'STALE_REQUEST']);
      }
      // Garbage that is not even decryptable: a wrong signature is what is reported, so nothing was decrypted first.
      const garbage = JSON.stringify({ encrypt: 'AAAA'.repeat(20) });
      const bad = await postWebhook(sealed.base, garbage, { ...signedAt(0, garbage), 'x-lark-signature': 'f'.repeat(64) });
      expect([bad.status, (bad.json.error as { code: string }).code]).toEqual([401, 'BAD_SIGNATURE']);
      // Positive control: the same event signed now is taken.
      expect((await postWebhook(sealed.base, body, signedAt(0))).status).toBe(200);
      await until('the status card', () => lark.ofType('interactive', rootOf(ev))[0]);
      expect(await jobs(sealed.bot)).toBe(before + 1);
    });
  });

  it('token-only mode warns at start and recommends an Encrypt Key; with a key it does not', async () => {
    const lines: string[] = [];
    const log = createLogger('warn', {}, { destination: { write: (l: string) => { lines.push(l); } } });
    const make = (encrypt: boolean) => new LarkAdapter({
      settings: readLarkSettings(loadConfig({ CONFIG_FILE: '', LARK_APP_ID: APP_ID, LARK_APP_SECRET: 'app-secret-value', LARK_MODE: 'webhook',
        LARK_VERIFICATION_TOKEN: TOKEN, ...(encrypt ? { LARK_ENCRYPT_KEY: KEY } : {}) })),
      http: new HttpServer(createLogger('silent')), log,
    });
    const inbound = { onRequest: async () => undefined, onAction: async () => ({ ok: true, message: '' }) };
    const tokenOnly = make(false);
    await tokenOnly.start(inbound);
    await tokenOnly.stop();
    expect(lines.filter((l) => l.includes('LARK_ENCRYPT_KEY'))).toHaveLength(1);
    const sealedOne = make(true);
    await sealedOne.start(inbound);
    await sealedOne.stop();
    expect(lines.filter((l) => l.includes('LARK_ENCRYPT_KEY'))).toHaveLength(1);
  });

  it('token-only mode: an event too old to be a re-push (or dated in the future) is refused even after its mark is gone', async () => {
    const before = await jobs(plain.bot);
    const old = messageEvent({ text: '@_user_1 an old capture --size 256x256', mentions: [botMention()] });
    (old.header as { create_time: string }).create_time = String(Date.parse('2020-01-01T00:00:00Z'));
    const future = messageEvent({ text: '@_user_1 from the future --size 256x256', mentions: [botMention()] });
    (future.header as { create_time: string }).create_time = String(Date.now() + 3600_000);
    for (const ev of [old, future]) {
      const res = await postWebhook(plain.base, JSON.stringify(ev));
      expect([res.status, (res.json.error as { code: string }).code]).toEqual([401, 'STALE_REQUEST']);
    }
    // Lark re-pushes for hours: an event created two hours ago is still a re-push, and taken.
    const repush = messageEvent({ text: '@_user_1 pushed again later --size 256x256', mentions: [botMention()] });
    (repush.header as { create_time: string }).create_time = String(Date.now() - 2 * 3600_000);
    expect((await postWebhook(plain.base, JSON.stringify(repush))).status).toBe(200);
    await until('the re-pushed job', async () => (await jobs(plain.bot)) === before + 1);
  });
});
