/**
 * A fake Lark / Feishu open platform on nock (open.feishu.cn or open.larksuite.com): tenant token, bot info,
 * replies (honouring `uuid` like Lark: the same uuid posts once), card patches and image uploads, with
 * switches for throttling and failures. Plus builders for real v2 event payloads and Lark's encryption.
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import nock from 'nock';

export const BOT_OPEN_ID = 'ou_bot000000000000000000000000001';
export const TENANT = '2ca1d211f64f6438';
export const APP_ID = 'cli_a1b2c3d4e5f60718';

export interface SentMessage {
  id: string;
  root: string;
  /** For top-level messages (im.message.create). */
  chat?: string;
  /** For direct messages (im.message.create by open_id): the person. */
  to?: string;
  msgType: string;
  content: Record<string, unknown>;
  uuid?: string;
  replyInThread?: boolean;
  at: number;
}

export interface Patch { id: string; card: Record<string, unknown>; at: number }

/** A canned failure: status, body (and headers, e.g. `x-ogw-ratelimit-reset`), or `network` for no answer at all. */
export type Canned = [number, Record<string, unknown>] | [number, Record<string, unknown>, Record<string, string>] | 'network';

/** The endpoints the fake records every request to (failed ones included). */
export type LarkEndpoint = 'reply' | 'create' | 'patch' | 'upload' | 'contact' | 'botInfo';

/** nock 15 hands a reply function the Fetch Request (a second parameter would make it callback-style). */
const pathOf = (req: Request): string => new URL(req.url).pathname;

export class FakeLark {
  readonly sent: SentMessage[] = [];
  readonly patches: Patch[] = [];
  /** Byte sizes of the uploaded images. */
  readonly uploads: number[] = [];
  /** image_key → the uploaded image's bytes. */
  readonly images = new Map<string, Buffer>();
  /** The uuid of every reply attempt, failed ones included. */
  readonly replyUuids: string[] = [];
  tokenCalls = 0;
  /** open_id → open department ids, for the contact API. */
  readonly departments = new Map<string, string[]>();
  /** Answers used (in order) before the normal ones. */
  readonly patchFailures: Canned[] = [];
  readonly replyFailures: Canned[] = [];
  readonly uploadFailures: Canned[] = [];
  readonly createFailures: Canned[] = [];
  readonly contactFailures: Canned[] = [];
  readonly botInfoFailures: Canned[] = [];
  /** Every request to the recorded endpoints, in order, with the status it got (0: no answer). */
  readonly requests: Array<{ endpoint: LarkEndpoint; at: number; status: number }> = [];
  private next = 1;
  private readonly byUuid = new Map<string, string>();

  constructor(readonly origin = 'https://open.feishu.cn') {}

  install(): this {
    const scope = nock(this.origin).persist();
    scope.post('/open-apis/auth/v3/tenant_access_token/internal').reply(() => {
      this.tokenCalls++;
      return [200, { code: 0, msg: 'ok', tenant_access_token: 't-fake-tenant-token', expire: 7200 }];
    });
    scope.get('/open-apis/bot/v3/info').reply(() => this.failure('botInfo', this.botInfoFailures)
      ?? [200, { code: 0, msg: 'ok', bot: { open_id: BOT_OPEN_ID, app_name: 'zimage', activate_status: 2 } }]);
    scope.post(/^\/open-apis\/im\/v1\/messages\/[^/]+\/reply$/).reply(async (req: Request) => {
      const b = (await req.json()) as Record<string, unknown>;
      this.replyUuids.push(String(b.uuid));
      const failure = this.failure('reply', this.replyFailures);
      if (failure) return failure;
      const root = pathOf(req).split('/')[5]!;
      const uuid = typeof b.uuid === 'string' ? b.uuid : undefined;
      const known = uuid ? this.byUuid.get(uuid) : undefined;
      if (known) return [200, { code: 0, msg: 'ok', data: { message_id: known, root_id: root } }];
      const id = `om_fake${String(this.next++).padStart(6, '0')}`;
      if (uuid) this.byUuid.set(uuid, id);
      this.sent.push({
        id, root, msgType: String(b.msg_type), content: JSON.parse(String(b.content)) as Record<string, unknown>,
        ...(uuid ? { uuid } : {}), replyInThread: b.reply_in_thread === true, at: Date.now(),
      });
      return [200, { code: 0, msg: 'ok', data: { message_id: id, root_id: root, thread_id: `omt_${root}` } }];
    });
    scope.post('/open-apis/im/v1/messages').query({ receive_id_type: 'chat_id' }).reply(async (req: Request) => {
      const b = (await req.json()) as Record<string, unknown>;
      const failure = this.failure('create', this.createFailures);
      if (failure) return failure;
      const id = `om_fake${String(this.next++).padStart(6, '0')}`;
      this.sent.push({ id, root: '', chat: String(b.receive_id), msgType: String(b.msg_type), content: JSON.parse(String(b.content)) as Record<string, unknown>, at: Date.now() });
      return [200, { code: 0, msg: 'ok', data: { message_id: id, chat_id: b.receive_id } }];
    });
    scope.post('/open-apis/im/v1/messages').query({ receive_id_type: 'open_id' }).reply(async (req: Request) => {
      const b = (await req.json()) as Record<string, unknown>;
      const id = `om_fake${String(this.next++).padStart(6, '0')}`;
      // The person's direct chat with the bot: one per person.
      const chat = `oc_p2p${createHash('sha256').update(String(b.receive_id)).digest('hex').slice(0, 26)}`;
      this.sent.push({ id, root: '', chat, to: String(b.receive_id), msgType: String(b.msg_type), content: JSON.parse(String(b.content)) as Record<string, unknown>, at: Date.now() });
      return [200, { code: 0, msg: 'ok', data: { message_id: id, chat_id: chat } }];
    });
    scope.get(/^\/open-apis\/contact\/v3\/users\/[^/?]+/).query(true).reply(async (req: Request) => {
      const url = new URL(req.url);
      const id = url.pathname.split('/')[5]!;
      const failure = this.failure('contact', this.contactFailures);
      if (failure) return failure;
      if (url.searchParams.get('user_id_type') !== 'open_id') return [400, { code: 99992402, msg: 'field validation failed' }];
      return [200, { code: 0, msg: 'success', data: { user: { open_id: id, department_ids: this.departments.get(id) ?? [] } } }];
    });
    scope.patch(/^\/open-apis\/im\/v1\/messages\/[^/]+$/).reply(async (req: Request) => {
      const failure = this.failure('patch', this.patchFailures);
      if (failure) return failure;
      const b = (await req.json()) as { content: string };
      this.patches.push({ id: pathOf(req).split('/')[5]!, card: JSON.parse(b.content) as Record<string, unknown>, at: Date.now() });
      return [200, { code: 0, msg: 'ok', data: {} }];
    });
    scope.post('/open-apis/im/v1/images').reply(async (req: Request) => {
      const failure = this.failure('upload', this.uploadFailures);
      if (failure) return failure;
      const image = (await req.formData()).get('image');
      const bytes = Buffer.from(image && typeof image !== 'string' ? await image.arrayBuffer() : new ArrayBuffer(0));
      this.uploads.push(bytes.length);
      const key = `img_v3_fake${this.uploads.length}`;
      this.images.set(key, bytes);
      return [200, { code: 0, msg: 'ok', data: { image_key: key } }];
    });
    return this;
  }

  /** Requests to one endpoint so far, failed ones included. */
  requestsTo(endpoint: LarkEndpoint): Array<{ at: number; status: number }> {
    return this.requests.filter((r) => r.endpoint === endpoint);
  }

  /** Record a request; the next canned failure for it, if any (a `network` one is thrown: no answer). */
  private failure(endpoint: LarkEndpoint, list: Canned[]): Exclude<Canned, 'network'> | undefined {
    const failure = list.shift();
    this.requests.push({ endpoint, at: Date.now(), status: failure === 'network' ? 0 : failure?.[0] ?? 200 });
    if (failure === 'network') throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    return failure;
  }

  /** Messages of one type, optionally in one thread. */
  ofType(msgType: string, root?: string): SentMessage[] {
    return this.sent.filter((m) => m.msgType === msgType && (root === undefined || m.root === root));
  }

  /** The title of a card (status or result). */
  static title(card: Record<string, unknown>): string {
    return String(((card.header as { title?: { content?: string } } | undefined)?.title?.content) ?? '');
  }
}

/** Only loopback traffic goes out; open.feishu.cn is this fake (undo with `nock.cleanAll(); nock.enableNetConnect()`). */
export function installFakeLark(): FakeLark {
  nock.disableNetConnect();
  nock.enableNetConnect(/127\.0\.0\.1|localhost/);
  return new FakeLark('https://open.feishu.cn').install();
}

/** The bot's environment for Lark in webhook mode against this fake (verification token `v-token-123`, no Playground). */
export function larkWebhookEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    PLAYGROUND: 'false', LARK_APP_ID: APP_ID, LARK_APP_SECRET: 'app-secret-value', LARK_MODE: 'webhook',
    LARK_VERIFICATION_TOKEN: 'v-token-123', LARK_DOMAIN: 'feishu', LARK_LOCALE: 'en', ...overrides,
  };
}

export const THROTTLED: Canned = [400, { code: 230020, msg: 'This operation triggers the frequency limit.' }];

let seq = 0;
const hex = (n: number): string => randomBytes(n).toString('hex');

export interface MessageOptions {
  text?: string;
  chatType?: 'group' | 'p2p';
  chatId?: string;
  sender?: string;
  messageType?: string;
  content?: unknown;
  mentions?: Array<{ key: string; id: { open_id: string; user_id?: string; union_id?: string }; name: string; tenant_key?: string }>;
  rootId?: string;
  eventId?: string;
  tenant?: string;
  token?: string;
}

export const botMention = (key = '@_user_1') => ({ key, id: { open_id: BOT_OPEN_ID, union_id: 'on_bot' }, name: 'zimage', tenant_key: TENANT });

/** A v2 `im.message.receive_v1` envelope, as Lark posts it (before encryption). */
export function messageEvent(o: MessageOptions = {}): Record<string, unknown> {
  const messageId = `om_${hex(16)}`;
  const tenant = o.tenant ?? TENANT;
  return {
    schema: '2.0',
    header: {
      event_id: o.eventId ?? hex(16), event_type: 'im.message.receive_v1', create_time: String(Date.now() + seq++),
      token: o.token ?? 'v-token-123', app_id: APP_ID, tenant_key: tenant,
    },
    event: {
      sender: { sender_id: { union_id: 'on_u1', user_id: 'u1', open_id: o.sender ?? 'ou_alice0000000000000000000000001' }, sender_type: 'user', tenant_key: tenant },
      message: {
        message_id: messageId, ...(o.rootId ? { root_id: o.rootId, parent_id: o.rootId } : {}),
        create_time: String(Date.now()), update_time: String(Date.now()),
        chat_id: o.chatId ?? 'oc_group00000000000000000000000001', chat_type: o.chatType ?? 'group',
        message_type: o.messageType ?? 'text',
        content: JSON.stringify(o.content ?? { text: o.text ?? '@_user_1 a cat' }),
        mentions: o.mentions ?? (o.chatType === 'p2p' ? [] : [botMention()]),
      },
    },
  };
}

/** A v2 `card.action.trigger` callback for a button value our cards carry. */
export function cardActionEvent(value: Record<string, unknown>, o: { operator?: string; chatId?: string; eventId?: string; token?: string; tenant?: string } = {}): Record<string, unknown> {
  const tenant = o.tenant ?? TENANT;
  return {
    schema: '2.0',
    header: { event_id: o.eventId ?? hex(16), token: o.token ?? 'v-token-123', create_time: String(Date.now() * 1000), event_type: 'card.action.trigger', tenant_key: tenant, app_type: 'app', app_id: APP_ID },
    event: {
      operator: { tenant_key: tenant, user_id: 'u1', open_id: o.operator ?? 'ou_alice0000000000000000000000001', union_id: 'on_u1' },
      token: `c-${hex(16)}`,
      action: { value, tag: 'button' },
      host: 'im_message',
      context: { open_message_id: `om_${hex(16)}`, open_chat_id: o.chatId ?? 'oc_group00000000000000000000000001' },
    },
  };
}

/** Encrypt a payload the way Lark does with an Encrypt Key. */
export function encryptPayload(payload: unknown, encryptKey: string): string {
  const key = createHash('sha256').update(encryptKey).digest();
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  return Buffer.concat([iv, cipher.update(JSON.stringify(payload), 'utf8'), cipher.final()]).toString('base64');
}

/** Headers Lark adds to a signed request. */
export function signedHeaders(rawBody: string, encryptKey: string): Record<string, string> {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const nonce = hex(8);
  const signature = createHash('sha256').update(timestamp + nonce + encryptKey + rawBody).digest('hex');
  return { 'x-lark-request-timestamp': timestamp, 'x-lark-request-nonce': nonce, 'x-lark-signature': signature };
}

/** POST a body to the bot's webhook endpoint. */
export async function postWebhook(base: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown>; ms: number }> {
  const started = Date.now();
  const res = await fetch(`${base}/lark/events`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const json = (await res.json()) as Record<string, unknown>;
  return { status: res.status, json, ms: Date.now() - started };
}
