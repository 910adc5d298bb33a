/**
 * A whole bot on one chat platform's fake (Slack in HTTP mode, Lark in webhook mode), for the behaviour that
 * is the core's rather than an adapter's: which layer retries a failed platform call, and how often. Each
 * driver sends mentions through the platform's real inbound path, makes the platform's next answers fail,
 * and reads back every request the platform got (failed ones included) and what a reader of the thread sees.
 */
import nock from 'nock';
import { encodeThread } from '../../adapters/lark/refs.js';
import { encodeRef } from '../../adapters/slack/refs.js';
import type { BotApp } from '../../src/app/bot-app.js';
import { FakeSlack, mentionEvent, TEAM, type Fault } from './fake-slack.js';
import { startBot, testEnv, type TestEnv } from './harness.js';
import { APP_ID, botMention, FakeLark, messageEvent, postWebhook, TENANT, type Canned } from './lark-fake.js';
import { startSlackBot, type SlackTestBot } from './slack-bot.js';

/** A platform answer: throttled (Retry-After in s), unavailable, or the bot shut out of the conversation. */
export type BotFault = { kind: 'throttled'; retryAfterS: number } | { kind: 'unavailable' } | { kind: 'cannot_post' };

export interface Attempt { at: number; status: number }
export interface ShownStatus { id: string; headline: string }

export interface PlatformBot {
  readonly platform: 'slack' | 'lark';
  readonly t: TestEnv;
  readonly bot: BotApp;
  /** Someone mentions the bot with `text`, starting a thread: its key on the platform and its reference for the core. */
  mention(text: string): Promise<{ key: string; ref: string }>;
  /** The next `times` reply posts (chat.postMessage / im.message.reply) answer `fault`. */
  failReplies(fault: BotFault, times?: number): void;
  /** The next image upload answers `fault`. */
  failImageUpload(fault: Exclude<BotFault, { kind: 'cannot_post' }>): void;
  /** The next status edit is refused because the message can no longer be edited. */
  failStatusEditNotEditable(): void;
  /** Every reply post (status cards included on Lark) and every image upload the platform got, in order. */
  replyAttempts(): Attempt[];
  uploadAttempts(): Attempt[];
  /** Plain replies in a thread, images in it, and its status messages with the headline they show now. */
  replies(key: string): string[];
  images(key: string): number;
  statuses(key: string): ShownStatus[];
  close(): Promise<void>;
}

/** The value of one sample of a metric in /metrics (0 when absent). */
export async function metricValue(bot: BotApp, name: string, labels: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${bot.boundPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

let seq = 0;

/** The Slack bot, with what only Slack's fake can do. */
export interface SlackPlatformBot extends PlatformBot {
  /** Every image post in the thread is refused: the bot is not in the channel (any more). */
  failImagePostForGood(): void;
  /** Image posts tried (files.completeUploadExternal), refused ones included. */
  imagePostAttempts(): number;
}

export async function slackBot(env: Record<string, string> = {}): Promise<SlackPlatformBot> {
  const s: SlackTestBot = await startSlackBot(env);
  const fake: FakeSlack = s.fake;
  const fault = (f: BotFault): Fault => (f.kind === 'throttled' ? { status: 429, headers: { 'retry-after': String(f.retryAfterS) } }
    : f.kind === 'unavailable' ? { status: 503 } : { error: 'not_in_channel' });
  const inThread = (key: string) => fake.posts(key);
  return {
    platform: 'slack', t: s.t, get bot() { return s.bot; },
    async mention(text) {
      const ts = `1700001000.${String(++seq).padStart(6, '0')}`;
      const res = await s.sendEvent(mentionEvent(text, { ts }));
      if (res.status !== 200) throw new Error(`app_mention → HTTP ${res.status}`);
      return { key: ts, ref: encodeRef({ team: TEAM, channel: 'C0CHAN', ts }) };
    },
    failReplies: (f, times = 1) => fake.fail('chat.postMessage', fault(f), times),
    failImageUpload: (f) => (f.kind === 'throttled' ? fake.failUpload(429, { 'retry-after': String(f.retryAfterS) }) : fake.failUpload(500)),
    failStatusEditNotEditable: () => fake.fail('chat.update', { error: 'edit_window_closed' }),
    failImagePostForGood: () => fake.fail('files.completeUploadExternal', { error: 'not_in_channel' }, 1000),
    imagePostAttempts: () => fake.requests('files.completeUploadExternal').length,
    replyAttempts: () => fake.requests('chat.postMessage').map(({ at, status }) => ({ at, status })),
    uploadAttempts: () => fake.requests('upload').map(({ at, status }) => ({ at, status })),
    replies: (key) => inThread(key).filter((c) => !isStatusText(c.body.text) && !c.body.blocks.includes('zimage_')).map((c) => c.body.text),
    images: (key) => fake.of('files.completeUploadExternal').filter((c) => c.body.thread_ts === key).length,
    statuses: (key) => inThread(key).filter((c) => isStatusText(c.body.text)).map((c) => {
      const ts = String(c.reply!.ts);
      const edits = fake.of('chat.update').filter((u) => u.body.ts === ts);
      return { id: ts, headline: edits.at(-1)?.body.text ?? c.body.text };
    }),
    close: () => s.close(),
  };
}

/** Status headlines (templates/messages/en.yaml `status.*`). */
function isStatusText(text: string): boolean {
  return /^(Queued —|Generating —|Finishing…|Done —|Failed —|Cancelled$)/.test(text);
}

export async function larkBot(env: Record<string, string> = {}): Promise<PlatformBot> {
  nock.disableNetConnect();
  nock.enableNetConnect(/127\.0\.0\.1|localhost/);
  const lark = new FakeLark('https://open.feishu.cn').install();
  const t = await testEnv({
    PLAYGROUND: 'false', LARK_APP_ID: APP_ID, LARK_APP_SECRET: 'app-secret-value', LARK_MODE: 'webhook',
    LARK_VERIFICATION_TOKEN: 'v-token-123', LARK_DOMAIN: 'feishu', LARK_LOCALE: 'en', ...env,
  });
  const bot = await startBot(t);
  const base = `http://127.0.0.1:${bot.boundPort}`;
  const fault = (f: BotFault): Canned => (f.kind === 'throttled' ? [429, { code: 99991400, msg: 'request trigger frequency limit' }, { 'x-ogw-ratelimit-reset': String(f.retryAfterS) }]
    : f.kind === 'unavailable' ? [503, { msg: 'service unavailable' }] : [400, { code: 230002, msg: 'The bot can not be outside the group.' }]);
  const cards = (key: string) => lark.ofType('interactive', key);
  return {
    platform: 'lark', t, bot,
    async mention(text) {
      const chat = 'oc_group00000000000000000000000001';
      const ev = messageEvent({ text: `@_user_1 ${text}`, chatId: chat, mentions: [botMention()] });
      const root = (ev.event as { message: { message_id: string } }).message.message_id;
      const res = await postWebhook(base, JSON.stringify(ev));
      if (res.status !== 200) throw new Error(`message event → HTTP ${res.status}`);
      return { key: root, ref: encodeThread({ tenant: TENANT, chat, root }) };
    },
    failReplies: (f, times = 1) => { for (let i = 0; i < times; i++) lark.replyFailures.push(fault(f)); },
    failImageUpload: (f) => { lark.uploadFailures.push(fault(f)); },
    failStatusEditNotEditable: () => { lark.patchFailures.push([400, { code: 230072, msg: 'The message has reached the number of times it can be edited.' }]); },
    replyAttempts: () => lark.requestsTo('reply'),
    uploadAttempts: () => lark.requestsTo('upload'),
    replies: (key) => lark.ofType('post', key).map((m) => JSON.stringify(m.content)),
    images: (key) => lark.ofType('image', key).length,
    statuses: (key) => cards(key).filter((m) => !JSON.stringify(m.content).includes('"regenerate"')).map((m) => {
      const latest = lark.patches.filter((p) => p.id === m.id).at(-1);
      return { id: m.id, headline: FakeLark.title(latest?.card ?? m.content) };
    }),
    async close() {
      await bot.stop();
      t.cleanup();
      nock.cleanAll();
      nock.enableNetConnect();
    },
  };
}
