/**
 * Adapter contract driver for Lark / Feishu (webhook mode): the real LarkAdapter with `POST /lark/events` on
 * the bot's HttpServer, against the fake open platform (nock on open.feishu.cn, test/helpers/lark-fake.ts).
 * Inbound traffic goes through the real webhook (v2 message events, card.action.trigger callbacks); what
 * Lark received is read back from the recorded replies, card patches and image uploads.
 */
import nock from 'nock';
import { LarkAdapter } from '../../adapters/lark/lark-adapter.js';
import { readLarkSettings } from '../../adapters/lark/lark-settings.js';
import type { PlatformErrorCode } from '../../src/chat/platform-errors.js';
import type { ActionKind, BotRequest } from '../../src/chat/types.js';
import { loadConfig } from '../../src/config.js';
import { HttpServer } from '../../src/http/server.js';
import { createLogger } from '../../src/infra/logger.js';
import { InboundRecorder, until, type FaultSpec, type FaultTable, type PortCall, type ShownButton, type ShownFile, type ShownImage, type ShownMessage, type ShownPrivate } from './contract-common.js';
import { APP_ID, botMention, cardActionEvent, FakeLark, messageEvent, postWebhook, TENANT, type Canned, type LarkEndpoint } from './lark-fake.js';

const ORIGIN = 'https://open.feishu.cn';
const TOKEN = 'v-token-123';
const CHAT = 'oc_group00000000000000000000000001';

type Node = Record<string, unknown>;

const LISTS: Record<LarkEndpoint, (f: FakeLark) => Canned[]> = {
  reply: (f) => f.replyFailures, create: (f) => f.createFailures, patch: (f) => f.patchFailures, upload: (f) => f.uploadFailures,
  contact: (f) => f.contactFailures, botInfo: (f) => f.botInfoFailures,
};
const answer = (endpoint: LarkEndpoint, canned: Canned, says: string, retryAfterMs?: number) => (f: FakeLark): FaultSpec => ({
  endpoint, says, ...(retryAfterMs ? { retryAfterMs } : {}), inject: () => { LISTS[endpoint](f).push(canned); },
});
const THROTTLED_429: Canned = [429, { code: 99991400, msg: 'request trigger frequency limit' }, { 'x-ogw-ratelimit-reset': '7' }];
const NOT_MEMBER: Canned = [400, { code: 230002, msg: 'The bot can not be outside the group.' }];
const INVALID: Canned = [400, { code: 230001, msg: 'Your request contains an invalid request parameter.' }];

/**
 * Lark's answers for each code, per port call (im.message.reply / create / patch, im.image.create, contact).
 * postImage has no PLATFORM_REJECTED: a refused image is explained in the thread instead (lark-adapter.test.ts).
 */
export const LARK_FAULTS: FaultTable<FakeLark> = {
  reply: {
    RATE_LIMITED: answer('reply', THROTTLED_429, '99991400', 7000),
    PLATFORM_UNAVAILABLE: answer('reply', [500, { code: 1500, msg: 'internal error' }], 'internal error'),
    CANNOT_POST: answer('reply', NOT_MEMBER, '230002'),
    PLATFORM_REJECTED: answer('reply', INVALID, '230001'),
  },
  postStatus: {
    RATE_LIMITED: answer('reply', [400, { code: 230020, msg: 'This operation triggers the frequency limit.' }], '230020', 1000),
    PLATFORM_UNAVAILABLE: answer('reply', 'network', 'socket hang up'),
    CANNOT_POST: answer('reply', [400, { code: 230035, msg: 'Send Message Permission deny.' }], '230035'),
    PLATFORM_REJECTED: answer('reply', [400, { code: 230028, msg: 'The messages do NOT pass the audit.' }], '230028'),
  },
  updateStatus: {
    RATE_LIMITED: answer('patch', THROTTLED_429, '99991400', 7000),
    PLATFORM_UNAVAILABLE: answer('patch', [502, { msg: 'bad gateway' }], 'HTTP 502'),
    CANNOT_POST: answer('patch', NOT_MEMBER, '230002'),
    MESSAGE_NOT_EDITABLE: answer('patch', [400, { code: 230072, msg: 'The message has reached the number of times it can be edited.' }], '230072'),
    PLATFORM_REJECTED: answer('patch', [400, { code: 230011, msg: 'The message was withdrawn.' }], '230011'),
  },
  postImage: {
    RATE_LIMITED: answer('upload', THROTTLED_429, '99991400', 7000),
    PLATFORM_UNAVAILABLE: answer('upload', 'network', 'socket hang up'),
    CANNOT_POST: answer('reply', NOT_MEMBER, '230002'),
  },
  startThread: {
    RATE_LIMITED: answer('create', [400, { code: 11232, msg: 'frequency limit for the tenant' }], '11232', 1000),
    PLATFORM_UNAVAILABLE: answer('create', [503, { msg: 'service unavailable' }], 'HTTP 503'),
    CANNOT_POST: answer('create', NOT_MEMBER, '230002'),
    PLATFORM_REJECTED: answer('create', INVALID, '230001'),
  },
  userGroups: {
    RATE_LIMITED: answer('contact', THROTTLED_429, '99991400', 7000),
    PLATFORM_UNAVAILABLE: answer('contact', [500, { code: 1500, msg: 'internal error' }], 'internal error'),
    PLATFORM_REJECTED: answer('contact', [400, { code: 99991672, msg: 'Access denied. One of the following scopes is required: [contact:user.department:readonly]' }], '99991672'),
  },
};

/** Lark markdown that would be acted on: <at>, <a>, **bold**, *italic*, ~~strike~~, [link](…), `code`. */
function liveMarkdown(text: string): string[] {
  return [...text.matchAll(/<(?:at|a|font)\b[^>]*>|\*\*[^*\n]+\*\*|\*[^*\n]+\*|~~[^~\n]+~~|\[[^\]\n]*\]\([^)\n]*\)|`[^`\n]*`/g)].map((m) => m[0]);
}

const decodeEntities = (s: string): string => s.replace(/&#(\d+);/g, (_m, n: string) => String.fromCharCode(Number(n)))
  .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** A card (JSON 2.0) or a rich-text post as a reader sees it. */
export function renderContent(msgType: string, content: Node): Pick<ShownMessage, 'text' | 'markup' | 'buttons'> {
  const texts: string[] = [];
  const markup: string[] = [];
  const buttons: ShownButton[] = [];
  if (msgType === 'post') {
    const body = (content.zh_cn ?? content.en_us ?? content) as { title?: string; content?: Node[][] };
    if (body.title) texts.push(body.title);
    for (const paragraph of body.content ?? []) {
      texts.push(paragraph.map((n) => {
        if (n.tag !== 'text' || n.un_escape === true) markup.push(`<${String(n.tag)}>`);
        return typeof n.text === 'string' ? n.text : '';
      }).join(''));
    }
  } else if (msgType === 'interactive') {
    const title = (content.header as { title?: { content?: string } } | undefined)?.title?.content;
    if (title) texts.push(title);
    const walk = (n: unknown): void => {
      if (Array.isArray(n)) return n.forEach(walk);
      if (typeof n !== 'object' || n === null) return;
      const e = n as Node;
      if (e.tag === 'button') {
        const value = (e.behaviors as Array<{ value?: { zimage?: string; job?: string } }> | undefined)?.[0]?.value;
        if (value?.zimage) buttons.push({ kind: value.zimage as ActionKind, jobId: String(value.job), raw: value });
        return;
      }
      if (e.tag === 'markdown' && typeof e.content === 'string') {
        markup.push(...liveMarkdown(e.content));
        texts.push(decodeEntities(e.content));
        return;
      }
      const t = e.text as { tag?: string; content?: string } | undefined;
      if (e.tag === 'div' && t?.content !== undefined) {
        if (t.tag === 'lark_md') markup.push(...liveMarkdown(t.content));
        texts.push(t.content);
      }
      for (const k of ['elements', 'columns']) if (k in e) walk(e[k]);
    };
    walk((content.body as Node | undefined)?.elements);
  }
  return { text: texts.join('\n'), markup, buttons };
}

/** A rich-text post whose `a` nodes are links: what a reader sees, the links, and any other markup. */
function renderLinkedPost(content: Node): { text: string; links: string[]; markup: string[] } {
  const body = (content.zh_cn ?? content.en_us ?? content) as { content?: Node[][] };
  const links: string[] = [];
  const markup: string[] = [];
  const lines = (body.content ?? []).map((paragraph) => paragraph.map((n) => {
    if (n.tag === 'a') { links.push(String(n.href)); return String(n.text ?? n.href); }
    if (n.tag !== 'text' || n.un_escape === true) markup.push(`<${String(n.tag)}>`);
    return typeof n.text === 'string' ? n.text : '';
  }).join(''));
  return { text: lines.join('\n'), links, markup };
}

export class LarkContractDriver extends InboundRecorder {
  readonly name = 'Lark (webhook mode)';
  readonly user = 'ou_alice0000000000000000000000001';
  readonly workspace = TENANT;
  readonly channel = CHAT;
  readonly uploadsBytes = true;
  adapter!: LarkAdapter;
  private fake!: FakeLark;
  private http!: HttpServer;
  private base = '';
  /** Thread key (root message id) → chat id. */
  private readonly chatOf = new Map<string, string>();

  async setup(): Promise<void> {
    nock.disableNetConnect();
    nock.enableNetConnect(/127\.0\.0\.1|localhost/);
    this.fake = new FakeLark(ORIGIN).install();
    this.http = new HttpServer(createLogger('silent'));
    const config = loadConfig({
      CONFIG_FILE: '', LARK_APP_ID: APP_ID, LARK_APP_SECRET: 'app-secret-value', LARK_DOMAIN: 'feishu', LARK_MODE: 'webhook',
      LARK_VERIFICATION_TOKEN: TOKEN, LARK_LOCALE: 'en',
    });
    this.adapter = new LarkAdapter({
      settings: readLarkSettings(config), http: this.http,
      log: createLogger(process.env.CONTRACT_TEST_LOG ?? 'silent'),
    });
    this.base = `http://127.0.0.1:${await this.http.listen(0, '127.0.0.1')}`;
    await this.adapter.start(this.inbound);
  }

  async teardown(): Promise<void> {
    await this.adapter?.stop();
    await this.http?.close();
    nock.cleanAll();
    nock.enableNetConnect();
  }

  /** A person mentions the bot in a group (v2 im.message.receive_v1 on the webhook). */
  async newThread(): Promise<{ ref: string; key: string; request: BotRequest }> {
    const before = this.requests.length;
    const ev = messageEvent({ text: '@_user_1 a cat', sender: this.user, chatId: CHAT, mentions: [botMention()] });
    const res = await postWebhook(this.base, JSON.stringify(ev));
    if (res.status !== 200) throw new Error(`message event → HTTP ${res.status}`);
    const request = await until('the request', () => this.requests[before]);
    const key = (ev.event as { message: { message_id: string } }).message.message_id;
    this.chatOf.set(key, CHAT);
    return { ref: request.thread, key, request };
  }

  async messages(): Promise<ShownMessage[]> {
    // Direct messages to one person (`to`) are not in any conversation others read: privateMessages().
    return this.fake.sent.filter((m) => m.msgType !== 'image' && !m.to).map((m) => {
      const patches = this.fake.patches.filter((p) => p.id === m.id);
      const latest = patches.at(-1);
      if (m.chat) this.chatOf.set(m.id, m.chat);
      return {
        thread: m.root || null, messageId: m.id, edits: patches.length,
        ...renderContent(m.msgType, latest ? latest.card : m.content),
      };
    });
  }

  async images(): Promise<ShownImage[]> {
    return this.fake.ofType('image').map((m) => {
      const bytes = this.fake.images.get(String(m.content.image_key));
      return { thread: m.root, ...(bytes ? { bytes } : {}) };
    });
  }

  /** Direct messages from the bot (im.message.create by open_id): only that person reads them. */
  async privateMessages(): Promise<ShownPrivate[]> {
    return this.fake.sent.filter((m) => m.to).map((m) => ({ to: m.to!, thread: null, ...renderLinkedPost(m.content) }));
  }

  /** Images posted into threads that are no job's result, with their bytes. */
  async files(): Promise<ShownFile[]> {
    return this.fake.ofType('image').map((m) => ({ thread: m.root, bytes: this.fake.images.get(String(m.content.image_key)) ?? Buffer.alloc(0) }));
  }

  /** A card button click as Lark calls back (card.action.trigger on the webhook); the toast the clicker sees. */
  async click(message: ShownMessage, button: ShownButton): Promise<string | undefined> {
    const chatId = this.chatOf.get(message.thread ?? message.messageId) ?? CHAT;
    const ev = cardActionEvent(button.raw as Record<string, unknown>, { operator: this.user, chatId });
    (ev.event as { context: { open_message_id: string } }).context.open_message_id = message.messageId;
    const res = await postWebhook(this.base, JSON.stringify(ev));
    if (res.status !== 200) throw new Error(`card action → HTTP ${res.status}`);
    return (res.json.toast as { content?: string } | undefined)?.content;
  }

  /** The platform answer that stands for `code` on `call`. */
  fault(call: PortCall, code: PlatformErrorCode): FaultSpec {
    const make = LARK_FAULTS[call][code];
    if (!make) throw new Error(`no Lark fault for ${call} ${code}`);
    return make(this.fake);
  }

  /** Requests made to a platform endpoint so far (failed ones included). */
  platformRequests(endpoint: string): number {
    return this.fake.requestsTo(endpoint as LarkEndpoint).length;
  }

  failNextEditRateLimited(retryAfterS: number): void {
    this.fake.patchFailures.push([429, { code: 99991400, msg: 'request trigger frequency limit' }, { 'x-ogw-ratelimit-reset': String(retryAfterS) }] as never);
  }

  readonly refusals = {
    notMember: { code: 'CANNOT_POST' as const, says: '230002', inject: () => { this.fake.replyFailures.push([400, { code: 230002, msg: 'Bot/User can NOT be out of the chat.' }]); } },
    invalid: { code: 'PLATFORM_REJECTED' as const, says: '230001', inject: () => { this.fake.replyFailures.push([400, { code: 230001, msg: 'Your request contains an invalid request parameter.' }]); } },
    editGone: { code: 'PLATFORM_REJECTED' as const, says: '230011', inject: () => { this.fake.patchFailures.push([400, { code: 230011, msg: 'The message was withdrawn.' }]); } },
  };
}
