/**
 * Adapter contract driver for Slack (HTTP mode): the real SlackAdapter on the bot's HttpServer, against
 * the fake Slack Web API (nock, test/helpers/fake-slack.ts). Inbound traffic goes through the real path —
 * signed `POST /slack/events` (app_mention events, block_actions interactions) — and what Slack received
 * is read back from the recorded Web API calls: messages by channel/ts, Block Kit rendered to what a
 * reader sees, buttons with the action_id/value Slack would send back, uploads with their bytes.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import nock from 'nock';
import { SlackAdapter } from '../../adapters/slack/slack-adapter.js';
import type { PlatformErrorCode } from '../../src/chat/platform-errors.js';
import type { ActionKind, BotRequest } from '../../src/chat/types.js';
import { HttpServer } from '../../src/http/server.js';
import { createLogger } from '../../src/infra/logger.js';
import { createRedis } from '../../src/infra/redis.js';
import { buttonClick, FakeSlack, mentionEvent, SIGNING_SECRET, SLACK_API_URL, signedHeaders, TEAM, type Fault } from './fake-slack.js';
import { REDIS_URL } from './harness.js';
import { InboundRecorder, until, type FaultSpec, type FaultTable, type PortCall, type ShownButton, type ShownFile, type ShownImage, type ShownMessage, type ShownPrivate } from './contract-common.js';

const CHANNEL = 'C0CHAN';

const api = (method: string, fault: Fault, says: string, retryAfterMs?: number) => (f: FakeSlack): FaultSpec => ({
  endpoint: method, says, ...(retryAfterMs ? { retryAfterMs } : {}), inject: () => f.fail(method, fault),
});
const upload = (status: number, says: string, headers?: Record<string, string>, retryAfterMs?: number) => (f: FakeSlack): FaultSpec => ({
  endpoint: 'upload', says, ...(retryAfterMs ? { retryAfterMs } : {}), inject: () => f.failUpload(status, headers),
});
const THROTTLED: Fault = { status: 429, headers: { 'retry-after': '7' } };

/** Slack's answers for each code, per port call (chat.postMessage, chat.update, files.uploadV2, usergroups.list). */
export const SLACK_FAULTS: FaultTable<FakeSlack> = {
  reply: {
    RATE_LIMITED: api('chat.postMessage', THROTTLED, 'retry after 7 s', 7000),
    PLATFORM_UNAVAILABLE: api('chat.postMessage', { status: 503 }, 'HTTP 503'),
    CANNOT_POST: api('chat.postMessage', { error: 'not_in_channel' }, 'not_in_channel'),
    PLATFORM_REJECTED: api('chat.postMessage', { error: 'invalid_blocks' }, 'invalid_blocks'),
  },
  postStatus: {
    RATE_LIMITED: api('chat.postMessage', { error: 'ratelimited' }, 'ratelimited', 1000),
    PLATFORM_UNAVAILABLE: api('chat.postMessage', { network: true }, 'could not be reached'),
    CANNOT_POST: api('chat.postMessage', { error: 'is_archived' }, 'is_archived'),
    PLATFORM_REJECTED: api('chat.postMessage', { error: 'msg_too_long' }, 'msg_too_long'),
  },
  updateStatus: {
    RATE_LIMITED: api('chat.update', THROTTLED, 'retry after 7 s', 7000),
    PLATFORM_UNAVAILABLE: api('chat.update', { network: true }, 'could not be reached'),
    CANNOT_POST: api('chat.update', { error: 'channel_not_found' }, 'channel_not_found'),
    MESSAGE_NOT_EDITABLE: api('chat.update', { error: 'edit_window_closed' }, 'edit_window_closed'),
    PLATFORM_REJECTED: api('chat.update', { error: 'message_not_found' }, 'message_not_found'),
  },
  postImage: {
    RATE_LIMITED: upload(429, 'retry after 7 s', { 'retry-after': '7' }, 7000),
    PLATFORM_UNAVAILABLE: upload(500, 'HTTP 500'),
    CANNOT_POST: api('files.completeUploadExternal', { error: 'not_in_channel' }, 'not_in_channel'),
    PLATFORM_REJECTED: api('files.getUploadURLExternal', { error: 'invalid_arguments' }, 'invalid_arguments'),
  },
  startThread: {
    RATE_LIMITED: api('chat.postMessage', THROTTLED, 'retry after 7 s', 7000),
    PLATFORM_UNAVAILABLE: api('chat.postMessage', { error: 'internal_error' }, 'internal_error'),
    CANNOT_POST: api('chat.postMessage', { error: 'restricted_action' }, 'restricted_action'),
    PLATFORM_REJECTED: api('chat.postMessage', { error: 'invalid_auth' }, 'invalid_auth'),
  },
  userGroups: {
    RATE_LIMITED: api('usergroups.list', THROTTLED, 'retry after 7 s', 7000),
    PLATFORM_UNAVAILABLE: api('usergroups.list', { status: 502 }, 'HTTP 502'),
    PLATFORM_REJECTED: api('usergroups.list', { error: 'missing_scope' }, 'missing_scope'),
  },
};

type TextObject = { type?: string; text?: string };
type Block = { type?: string; text?: TextObject; fields?: TextObject[]; accessory?: Record<string, unknown>; elements?: Array<Record<string, unknown>> };
type RichElement = { type?: string; text?: string; url?: string; elements?: RichElement[] };

/** A rich_text block as a reader sees it: text elements literal, link elements clickable (their text is the URL unless labelled). */
function renderRichText(elements: RichElement[], texts: string[], links: string[]): void {
  for (const e of elements) {
    if (e.type === 'text') texts.push(e.text ?? '');
    else if (e.type === 'link') { links.push(e.url ?? ''); texts.push(e.text ?? e.url ?? ''); }
    else if (e.elements) renderRichText(e.elements, texts, links);
  }
}

/** mrkdwn that Slack would act on: `<…>` (mentions, links, @channel), *bold*, _italic_, ~strike~, `code`. */
function liveMrkdwn(text: string): string[] {
  return [...text.matchAll(/<[^>]*>|\*[^*\n]+\*|(?<![\p{L}\p{N}])_[^_\n]+_|~[^~\n]+~|`[^`\n]*`/gu)].map((m) => m[0]);
}

const unescape = (s: string): string => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** Block Kit as a reader sees it. */
export function renderBlocks(blocksJson: string): Pick<ShownMessage, 'text' | 'markup' | 'buttons'> & { links: string[] } {
  const blocks = JSON.parse(blocksJson || '[]') as Block[];
  const texts: string[] = [];
  const markup: string[] = [];
  const buttons: ShownButton[] = [];
  const links: string[] = [];
  const text = (o: TextObject | undefined): void => {
    if (!o?.text) return;
    if (o.type === 'mrkdwn') {
      markup.push(...liveMrkdwn(o.text));
      texts.push(unescape(o.text));
    } else texts.push(o.text);
  };
  const button = (e: Record<string, unknown> | undefined): void => {
    if (e?.type !== 'button') return;
    const kind = /^zimage_(cancel|regenerate|variations)$/.exec(String(e.action_id))?.[1] as ActionKind | undefined;
    if (kind) buttons.push({ kind, jobId: String(e.value), raw: { action_id: e.action_id, value: e.value } });
  };
  for (const b of blocks) {
    if (b.type === 'rich_text') {
      const parts: string[] = [];
      renderRichText((b.elements ?? []) as RichElement[], parts, links);
      texts.push(parts.join(''));
      continue;
    }
    text(b.text);
    for (const f of b.fields ?? []) text(f);
    button(b.accessory);
    for (const e of b.elements ?? []) {
      if (b.type === 'context') text(e as TextObject);
      else button(e);
    }
  }
  return { text: texts.join('\n'), markup, buttons, links };
}

export class SlackContractDriver extends InboundRecorder {
  readonly name = 'Slack (HTTP mode)';
  readonly user = 'U0ANN';
  readonly workspace = TEAM;
  readonly channel = CHANNEL;
  readonly uploadsBytes = true;
  adapter!: SlackAdapter;
  private fake!: FakeSlack;
  private http!: HttpServer;
  private redis!: Redis;
  private port = 0;

  async setup(): Promise<void> {
    nock.disableNetConnect();
    nock.enableNetConnect(/127\.0\.0\.1|localhost/);
    this.fake = new FakeSlack();
    this.http = new HttpServer(createLogger('silent'));
    this.redis = createRedis(REDIS_URL(), 'contract-slack');
    this.adapter = new SlackAdapter({
      botToken: 'xoxb-test-token', mode: 'http', signingSecret: SIGNING_SECRET, apiUrl: SLACK_API_URL, http: this.http,
      redis: this.redis, prefix: `contract${randomBytes(4).toString('hex')}`, log: createLogger(process.env.CONTRACT_TEST_LOG ?? 'silent'),
      modal: () => ({ width: 1024, height: 1024, steps: 8, maxSteps: 16, maxCount: 4 }), localeFor: () => 'en',
    });
    this.port = await this.http.listen(0, '127.0.0.1');
    await this.adapter.start(this.inbound);
  }

  async teardown(): Promise<void> {
    await this.adapter?.stop();
    await this.http?.close();
    this.fake?.close();
    await this.redis?.quit();
    nock.enableNetConnect();
  }

  /** A person mentions the bot in the channel (signed app_mention event); the request's thread and its platform key. */
  async newThread(): Promise<{ ref: string; key: string; request: BotRequest }> {
    const ts = `1700000100.${String(Math.floor(Math.random() * 1e6)).padStart(6, '0')}`;
    const before = this.requests.length;
    const res = await this.send(JSON.stringify(mentionEvent('a cat', { user: this.user, channel: CHANNEL, ts })), 'application/json');
    if (res.status !== 200) throw new Error(`app_mention → HTTP ${res.status}`);
    const request = await until('the request', () => this.requests[before]);
    return { ref: request.thread, key: `${CHANNEL}/${ts}`, request };
  }

  /** Every message the bot posted, with chat.update edits applied. */
  async messages(): Promise<ShownMessage[]> {
    const out = new Map<string, ShownMessage>();
    for (const c of this.fake.calls) {
      if (c.status !== 200 || c.reply?.ok !== true) continue;
      if (c.method === 'chat.postMessage') {
        const id = `${c.body.channel}/${String(c.reply.ts)}`;
        const { links: _links, ...shown } = renderBlocks(c.body.blocks);
        out.set(id, { thread: c.body.thread_ts ? `${c.body.channel}/${c.body.thread_ts}` : null, messageId: id, edits: 0, ...shown });
      } else if (c.method === 'chat.update') {
        const id = `${c.body.channel}/${c.body.ts}`;
        const m = out.get(id);
        const { links: _links, ...shown } = renderBlocks(c.body.blocks);
        if (m) out.set(id, { ...m, ...shown, edits: m.edits + 1 });
      }
    }
    return [...out.values()];
  }

  /** Files shared into threads (files.completeUploadExternal), with the bytes sent to their upload URL. */
  async images(): Promise<ShownImage[]> {
    const urlOf = new Map(this.fake.of('files.getUploadURLExternal').map((c) => [String(c.reply!.file_id), new URL(String(c.reply!.upload_url)).pathname]));
    return this.fake.of('files.completeUploadExternal').flatMap((c) => (JSON.parse(c.body.files ?? '[]') as Array<{ id: string }>).map((f) => {
      const bytes = this.fake.uploadedFiles.get(urlOf.get(f.id) ?? '');
      return { thread: `${c.body.channel_id}/${c.body.thread_ts}`, ...(bytes ? { bytes } : {}) };
    }));
  }

  /** Ephemeral messages (chat.postEphemeral): only `user` sees them, in the conversation's thread. */
  async privateMessages(): Promise<ShownPrivate[]> {
    return this.fake.of('chat.postEphemeral').map((c) => {
      const { text, markup, links } = renderBlocks(c.body.blocks);
      return { to: String(c.body.user), thread: c.body.thread_ts ? `${c.body.channel}/${c.body.thread_ts}` : `${c.body.channel}`, text, markup, links };
    });
  }

  /** Files uploaded into threads, with their bytes and title. */
  async files(): Promise<ShownFile[]> {
    const urlOf = new Map(this.fake.of('files.getUploadURLExternal').map((c) => [String(c.reply!.file_id), new URL(String(c.reply!.upload_url)).pathname]));
    return this.fake.of('files.completeUploadExternal').flatMap((c) => (JSON.parse(c.body.files ?? '[]') as Array<{ id: string; title?: string }>).map((f) => ({
      thread: `${c.body.channel_id}/${c.body.thread_ts}`, bytes: this.fake.uploadedFiles.get(urlOf.get(f.id) ?? '') ?? Buffer.alloc(0), ...(f.title ? { title: f.title } : {}),
    })));
  }

  /** Click a button of a message as Slack delivers it (signed block_actions); what the clicker is told (ephemeral). */
  async click(message: ShownMessage, button: ShownButton): Promise<string | undefined> {
    const [channel, ts] = message.messageId.split('/') as [string, string];
    const threadTs = message.thread ? message.thread.split('/')[1]! : ts;
    const payload = buttonClick(button.kind, button.jobId, { user: this.user, channel, threadTs, messageTs: ts });
    const raw = button.raw as { action_id: string; value: string };
    payload.actions = [{ type: 'button', action_id: raw.action_id, block_id: 'b', value: raw.value, action_ts: String(Date.now() / 1000) }];
    const hooks = this.fake.hooks.length;
    const res = await this.send(new URLSearchParams({ payload: JSON.stringify(payload) }).toString(), 'application/x-www-form-urlencoded');
    if (res.status !== 200) throw new Error(`block_actions → HTTP ${res.status}`);
    const told = await until('the ephemeral answer', () => this.fake.hooks[hooks]);
    return typeof told.body.text === 'string' ? unescape(told.body.text) : undefined;
  }

  /** The platform answer that stands for `code` on `call`. */
  fault(call: PortCall, code: PlatformErrorCode): FaultSpec {
    const make = SLACK_FAULTS[call][code];
    if (!make) throw new Error(`no Slack fault for ${call} ${code}`);
    return make(this.fake);
  }

  /** Requests made to a platform endpoint so far (failed ones included). */
  platformRequests(endpoint: string): number {
    return this.fake.requests(endpoint).length;
  }

  failNextEditRateLimited(retryAfterS: number): void {
    this.fake.fail('chat.update', { status: 429, headers: { 'retry-after': String(retryAfterS) } });
  }

  /** Permanent refusals: the bot is not in the conversation, the request is invalid, the message is gone. */
  readonly refusals = {
    notMember: { code: 'CANNOT_POST' as const, says: 'not_in_channel', inject: () => this.fake.fail('chat.postMessage', { error: 'not_in_channel' }) },
    invalid: { code: 'PLATFORM_REJECTED' as const, says: 'invalid_blocks', inject: () => this.fake.fail('chat.postMessage', { error: 'invalid_blocks' }) },
    editGone: { code: 'PLATFORM_REJECTED' as const, says: 'message_not_found', inject: () => this.fake.fail('chat.update', { error: 'message_not_found' }) },
  };

  private send(body: string, contentType: string): Promise<Response> {
    return fetch(`http://127.0.0.1:${this.port}/slack/events`, { method: 'POST', body, headers: signedHeaders(body, contentType) });
  }
}
