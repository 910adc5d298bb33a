import nock from 'nock';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BotApp } from '../../src/app/bot-app.js';
import { startBot, testEnv, type TestEnv } from '../helpers/harness.js';
import {
  APP_ID, botMention, cardActionEvent, encryptPayload, FakeLark, messageEvent, postWebhook, signedHeaders,
} from '../helpers/lark-fake.js';

const TOKEN = 'v-token-123';
const KEY = 'encrypt-key-456';

async function until<T>(what: string, probe: () => T | undefined | false, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const v = probe();
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
    const ev = messageEvent({ text: '@_user_1 a forged cat', token: 'forged' });
    const res = await postWebhook(plain.base, JSON.stringify(ev));
    expect(res.status).toBe(401);
    expect(res.json).toMatchObject({ error: { code: 'BAD_TOKEN' } });
    await sleep(300);
    expect(await jobs(plain.bot)).toBe(0);
    expect(lark.sent.filter((m) => m.root === rootOf(ev))).toEqual([]);
  });

  it('the same event pushed four times makes one job and one status card', async () => {
    const before = await jobs(plain.bot);
    const ev = messageEvent({ text: '@_user_1 a retried lighthouse --size 256x256', mentions: [botMention()] });
    const answers = await Promise.all([1, 2, 3, 4].map(() => postWebhook(plain.base, JSON.stringify(ev))));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    await until('the status card', () => lark.ofType('interactive', rootOf(ev))[0]);
    await sleep(500);
    expect(await jobs(plain.bot)).toBe(before + 1);
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
      await sleep(300);
      expect(await jobs(sealed.bot)).toBe(before);

      const good = make();
      const res = await postWebhook(sealed.base, good.body, signedHeaders(good.body, KEY));
      expect(res.status).toBe(200);
      await until('the status card', () => lark.ofType('interactive', rootOf(good.ev))[0]);
      expect(await jobs(sealed.bot)).toBe(before + 1);
    });
  });
});
