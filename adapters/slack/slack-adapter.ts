/**
 * Slack on Bolt 5: Socket Mode (no public URL) or HTTP on the bot's own port. Transport only — inbound
 * traffic is acked at once and normalised to BotRequest / BotAction (see listeners.ts); outbound, the
 * core's status views and images become Block Kit messages, `chat.update` edits and `files.uploadV2`.
 * Every Web API call fails at once (no WebClient retries, 429s rejected rather than waited out) and its
 * failure is mapped to a platform-neutral code (slack-errors.ts); the core's layers do the retrying.
 */
import { App, SocketModeReceiver, webApi, type Receiver } from '@slack/bolt';
import type { Redis } from 'ioredis';
import type { ReplyRetry } from '../../src/chat/reply-retry.js';
import { retryAtStartup } from '../../src/chat/startup-retry.js';
import type { ChatAdapter, DeliveredImage, EditPacing, InboundHandlers, PostedFile, StatusView } from '../../src/chat/types.js';
import type { Conversation } from '../../src/jobs/types.js';
import { ZimageError } from '../../src/errors.js';
import type { HttpServer } from '../../src/http/server.js';
import type { Logger } from '../../src/infra/logger.js';
import { WorkQueue } from '../../src/intake/work-queue.js';
import { boltLogger } from './bolt-logger.js';
import { replyMessage, requestParent, resultMessage, statusMessage, type SlackMessage } from './blocks.js';
import { SlackHttpReceiver } from './http-receiver.js';
import { linkedTextMessage } from './linked-text.js';
import { registerListeners, type SlackConversations } from './listeners.js';
import type { ModalDefaults } from './modal.js';
import { decodeRef, encodeRef, PLATFORM, type SlackRef } from './refs.js';
import { slackErrorCode, slackFailure } from './slack-errors.js';
import { clip } from './text.js';

/**
 * Calls fail at once: no retries inside the WebClient, and a 429 is rejected with its Retry-After instead of
 * being waited out in the client's queue. The core retries (status tracker, deliver queue, reply retry).
 */
const FAIL_AT_ONCE: webApi.WebClientOptions = { retryConfig: { retries: 0 }, rejectRateLimitedCalls: true };
const UPLOADED_TTL_S = 7 * 24 * 3600;
/** Inbound ids seen by the adapter itself (longer than Slack's retry window and any replay window). */
const SEEN_TTL_S = 25 * 3600;
/**
 * Slow parts after an ack (HTTP mode) at once: each opens a thread parent and routes a command. Few, so a
 * burst's acknowledgements keep the event loop.
 */
const AFTER_ACK_CONCURRENCY = 4;
const GROUPS_TTL_MS = 5 * 60_000;

export interface SlackAdapterOptions {
  botToken: string;
  mode: 'socket' | 'http';
  /** App-level token (xapp-…, scope connections:write): Socket Mode. */
  appToken?: string;
  /** Signing secret: HTTP mode. */
  signingSecret?: string;
  /** Web API base URL (default https://slack.com/api/), e.g. a corporate proxy. */
  apiUrl?: string;
  http: HttpServer;
  redis: Redis;
  prefix: string;
  log: Logger;
  /** The form's defaults and limits as the settings say now. */
  modal: () => ModalDefaults;
  /** Reply language for a workspace (team id). */
  localeFor: (team: string) => string;
  /** Bolt receiver to use instead of the one `mode` implies (embedding the adapter elsewhere, tests). */
  receiver?: Receiver;
  /** Further WebClient options (e.g. `timeout`); retries stay off whatever they say. */
  clientOptions?: webApi.WebClientOptions;
  /** The core's one retry for posts (src/chat/reply-retry.ts): the thread parent of a slash command goes through it. */
  replyRetry?: Pick<ReplyRetry, 'run'>;
}

export class SlackAdapter implements ChatAdapter, SlackConversations {
  readonly platform = PLATFORM;
  // chat.update is Tier 3 (~50/min per workspace): stay under it with room for retries.
  readonly pacing: EditPacing = { minIntervalMs: 3000, perWorkspacePerMinute: 45 };
  readonly client: webApi.WebClient;
  private readonly clientOptions: webApi.WebClientOptions;
  /** For the Socket Mode connection only (see socketReceiver). */
  private readonly baseOptions: webApi.WebClientOptions;
  private readonly receiver: Receiver | undefined;
  /** Per workspace: no chat.update before this time (ms), after a 429's Retry-After. */
  private readonly holds = new Map<string, number>();
  private readonly groups = new Map<string, { until: number; list: Array<{ id: string; handle: string; users: string[] }> }>();
  private app: App | undefined;

  constructor(private readonly o: SlackAdapterOptions) {
    this.baseOptions = { logger: boltLogger(o.log), ...(o.apiUrl ? { slackApiUrl: withSlash(o.apiUrl) } : {}) };
    this.clientOptions = { ...this.baseOptions, ...o.clientOptions, ...FAIL_AT_ONCE };
    // Bolt's own client (listeners: views.open) gets the same options.
    this.client = new webApi.WebClient(o.botToken, this.clientOptions);
    if (o.receiver) this.receiver = o.receiver;
    else if (o.mode === 'http') {
      if (!o.signingSecret) throw new ZimageError('CONFIG_INVALID', 'SLACK_SIGNING_SECRET is required in HTTP mode (SLACK_MODE=http).');
      this.receiver = new SlackHttpReceiver({ http: o.http, signingSecret: o.signingSecret, log: o.log });
    }
  }

  /** The Bolt app (after start): `app.processEvent` is how Socket Mode payloads are fed in tests. */
  get bolt(): App {
    if (!this.app) throw new Error('the Slack adapter has not started');
    return this.app;
  }

  async start(inbound: InboundHandlers): Promise<void> {
    const me = await this.whoAmI();
    const logger = boltLogger(this.o.log);
    const receiver = this.receiver ?? this.socketReceiver();
    const app = new App({
      token: this.o.botToken, botId: me.botId, botUserId: me.userId, receiver, logger,
      clientOptions: this.clientOptions, convoStore: false, ignoreSelf: true,
    });
    app.error(async (err) => { this.o.log.error({ err }, 'Slack listener failed'); });
    // HTTP mode: the work after an ack (thread parent, routing) runs a few at a time behind the answers.
    const later = this.o.mode === 'http' && !this.o.receiver ? new WorkQueue(AFTER_ACK_CONCURRENCY, () => this.o.http.answered()) : null;
    const afterAck = (work: () => Promise<void>): Promise<void> => (later ? later.run(work) : work());
    registerListeners(app, { adapter: this, inbound, botUserId: me.userId, modal: this.o.modal, localeFor: this.o.localeFor, afterAck, log: this.o.log });
    this.app = app;
    try {
      await app.start();
    } catch (err) {
      const code = slackErrorCode(err);
      if (code) throw new ZimageError('CONFIG_INVALID', `Slack refused SLACK_APP_TOKEN (${code}). Generate an app-level token with the connections:write scope ("Basic Information" page of the Slack app) and enable Socket Mode.`);
      throw err;
    }
    this.o.log.info({ mode: this.o.receiver ? 'custom' : this.o.mode, team: me.team }, 'Slack adapter started');
  }

  async stop(): Promise<void> {
    await this.app?.stop().catch((err: unknown) => this.o.log.warn({ err }, 'Slack adapter stop failed'));
  }

  async reply(thread: string, text: string): Promise<string> {
    const ref = decodeRef(thread);
    // A request answered to its asker only: every reply is theirs alone too.
    if (ref.privateTo) return this.ephemeral(ref, ref.privateTo, replyMessage(text), 'reply');
    return this.post(ref.team, ref.channel, ref.ts, replyMessage(text), 'reply');
  }

  async postStatus(thread: string, view: StatusView, locale: string): Promise<string> {
    const ref = threadOf(thread);
    return this.post(ref.team, ref.channel, ref.ts, statusMessage(view, locale), 'status message');
  }

  async updateStatus(message: string, view: StatusView, locale: string): Promise<void> {
    const ref = decodeRef(message);
    const now = Date.now();
    const hold = this.holds.get(ref.team) ?? 0;
    if (hold > now) throw new ZimageError('RATE_LIMITED', `chat.update paused for workspace ${ref.team}`, {}, { retryAfterMs: hold - now });
    try {
      await this.client.chat.update({ channel: ref.channel, ts: ref.ts, ...statusMessage(view, locale) });
    } catch (err) {
      const e = slackFailure(err, 'status edit');
      // chat.update's limit is per workspace: hold every edit there, not only this message's.
      if (e.code === 'RATE_LIMITED' && e.retryAfterMs) this.holds.set(ref.team, Date.now() + e.retryAfterMs);
      throw e;
    }
  }

  /**
   * Upload the PNG into the thread (files.uploadV2: get URL → upload → complete), then post its metadata and
   * buttons as a separate thread message (the upload returns no message to attach them to). A retried
   * delivery does not upload the same image twice.
   */
  async postImage(thread: string, image: DeliveredImage, locale: string): Promise<void> {
    const ref = threadOf(thread);
    const meta = image.metadata;
    const uploadedKey = `${this.o.prefix}:slack:uploaded:${meta.jobId}:${meta.index}`;
    if (!(await this.o.redis.exists(uploadedKey))) {
      const file = await image.read();
      try {
        await this.client.filesUploadV2({
          channel_id: ref.channel, thread_ts: ref.ts, file, filename: image.filename,
          title: clip(meta.prompt, 250), alt_text: clip(meta.prompt, 1000),
        });
      } catch (err) {
        throw slackFailure(err, 'image upload');
      }
      await this.o.redis.set(uploadedKey, '1', 'EX', UPLOADED_TTL_S);
    }
    await this.post(ref.team, ref.channel, ref.ts, resultMessage(meta, locale), 'result message');
  }

  /**
   * The Slack user groups a person belongs to, as ids and handles (`S0123`, `design`), so a role can be bound
   * to either in the settings file. One `usergroups.list` per workspace every few minutes serves everyone.
   */
  async userGroups(workspace: string, user: string): Promise<string[]> {
    const now = Date.now();
    let entry = this.groups.get(workspace);
    if (!entry || entry.until <= now) {
      const res = await this.client.usergroups.list({ include_users: true, team_id: workspace }).catch((err: unknown) => { throw slackFailure(err, 'user groups'); });
      const list = (res.usergroups ?? []).map((g) => ({ id: String(g.id), handle: String(g.handle ?? ''), users: g.users ?? [] }));
      entry = { until: now + GROUPS_TTL_MS, list };
      this.groups.set(workspace, entry);
    }
    return entry.list.filter((g) => g.users.includes(user)).flatMap((g) => (g.handle ? [g.id, g.handle] : [g.id]));
  }

  /**
   * Whether this inbound id is new (then it is remembered): for requests the adapter acts on visibly before the
   * core sees them, so a replay is dropped before it posts anything.
   */
  async firstSight(id: string): Promise<boolean> {
    return (await this.o.redis.set(`${this.o.prefix}:slack:seen:${id}`, '1', 'EX', SEEN_TTL_S, 'NX')) === 'OK';
  }

  /**
   * A new thread in a channel for an unprompted run (scheduled generations): a short channel message as its
   * parent. A user id as the channel posts into the person's direct messages with the bot (Slack answers with
   * the DM's own channel id, which the thread reference keeps).
   */
  async startThread(workspace: string, channel: string, text: string): Promise<string> {
    try {
      const res = await this.client.chat.postMessage({ channel, ...replyMessage(text) });
      return encodeRef({ team: workspace, channel: String(res.channel ?? channel), ts: String(res.ts) });
    } catch (err) {
      throw slackFailure(err, 'scheduled thread');
    }
  }

  /** An ephemeral message to the person in the conversation's thread: only they see it (links clickable). */
  async replyPrivately(to: Conversation, text: string): Promise<'here'> {
    await this.ephemeral(decodeRef(to.thread), to.user, linkedTextMessage(text), 'private reply');
    return 'here';
  }

  /** An image that is not a job result (the usage chart) uploaded into the thread. */
  async postFile(thread: string, file: PostedFile, _locale: string): Promise<void> {
    const ref = threadOf(thread);
    try {
      await this.client.filesUploadV2({ channel_id: ref.channel, thread_ts: ref.ts, file: file.bytes, filename: file.filename, title: clip(file.title, 250) });
    } catch (err) {
      throw slackFailure(err, 'file upload');
    }
  }

  /**
   * Start a thread for a slash command: a channel message saying who asked for what. Returns the thread
   * reference. A throttled or unavailable Slack gets the core's one retry, as a reply would.
   */
  async openThread(team: string, channel: string, user: string, request: string, locale: string): Promise<string> {
    const post = async (): Promise<string> => {
      try {
        const res = await this.client.chat.postMessage({ channel, ...requestParent(user, request, locale) });
        return encodeRef({ team, channel, ts: String(res.ts) });
      } catch (err) {
        throw slackFailure(err, 'thread parent');
      }
    };
    return this.o.replyRetry ? this.o.replyRetry.run(PLATFORM, 'thread parent', post) : post();
  }

  /** A direct message to one person (the form's answer when its response_url is gone). */
  async tellDirectly(user: string, text: string): Promise<void> {
    await this.client.chat.postMessage({ channel: user, text });
  }

  /** An ephemeral message to one person in a conversation (used when nothing else can reach them). */
  async tellPrivately(channel: string, user: string, text: string, threadTs?: string): Promise<void> {
    try {
      await this.client.chat.postEphemeral({ channel, user, text, ...(threadTs ? { thread_ts: threadTs } : {}) });
    } catch (err) {
      throw slackFailure(err, 'ephemeral message');
    }
  }

  /** A message only `user` sees, in the reference's thread (in the channel for a private reference). */
  private async ephemeral(ref: SlackRef, user: string, msg: SlackMessage, what: string): Promise<string> {
    try {
      const res = await this.client.chat.postEphemeral({ channel: ref.channel, user, ...(ref.ts ? { thread_ts: ref.ts } : {}), ...msg });
      return encodeRef({ team: ref.team, channel: ref.channel, ts: String(res.message_ts) });
    } catch (err) {
      throw slackFailure(err, what);
    }
  }

  private async post(team: string, channel: string, threadTs: string, msg: SlackMessage, what: string): Promise<string> {
    try {
      const res = await this.client.chat.postMessage({ channel, thread_ts: threadTs, ...msg });
      return encodeRef({ team, channel, ts: String(res.ts) });
    } catch (err) {
      throw slackFailure(err, what);
    }
  }

  /**
   * The Socket Mode connection keeps the socket client's own retries of `apps.connections.open` (its reconnect
   * loop): that call opens the transport, it is not a post the core makes or could retry.
   */
  private socketReceiver(): SocketModeReceiver {
    if (!this.o.appToken) throw new ZimageError('CONFIG_INVALID', 'SLACK_APP_TOKEN (xapp-…) is required in Socket Mode.');
    return new SocketModeReceiver({ appToken: this.o.appToken, logger: boltLogger(this.o.log), installerOptions: { clientOptions: this.baseOptions } });
  }

  /** auth.test: who the bot is (so Bolt needs no call of its own), and a clear start-up error for a bad token. */
  private async whoAmI(): Promise<{ userId: string; botId: string; team: string }> {
    return retryAtStartup('Slack auth.test', async () => {
      try {
        const res = await this.client.auth.test();
        return { userId: String(res.user_id), botId: String(res.bot_id), team: String(res.team_id) };
      } catch (err) {
        const e = slackFailure(err, 'auth.test');
        const code = slackErrorCode(err);
        if (code && !e.retryable) throw new ZimageError('CONFIG_INVALID', `Slack refused SLACK_BOT_TOKEN (${code}). Copy the Bot User OAuth Token (xoxb-…) from the app's "OAuth & Permissions" page.`);
        throw e;
      }
    }, this.o.log);
  }
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

/** A thread to post into in everyone's view: a private reference (a request answered to its asker only) has none. */
function threadOf(thread: string): SlackRef {
  const ref = decodeRef(thread);
  if (ref.privateTo) throw new ZimageError('PLATFORM_REJECTED', 'a request answered privately has no thread to post into');
  return ref;
}
