/**
 * The Lark / Feishu adapter: transport only. Events arrive over the long connection (WSClient, default) or
 * the webhook on the bot's HTTP port; handlers hand requests to the core without waiting (Lark re-pushes
 * after 3 s; the core drops repeats by event id). Replies go into the message's thread: a Card JSON 2.0
 * status card patched as the job moves, then the image and a result card with Regenerate / Variations.
 * Calls fail at once with platform-neutral codes (lark-errors.ts); the core retries.
 */
import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import * as lark from '@larksuiteoapi/node-sdk';
import type { ActionResult, ChatAdapter, DeliveredImage, EditPacing, InboundHandlers, PostedFile, PostStatusOptions, StatusView } from '../../src/chat/types.js';
import type { Conversation } from '../../src/jobs/types.js';
import type { HttpServer } from '../../src/http/server.js';
import { t } from '../../src/i18n/index.js';
import type { Logger } from '../../src/infra/logger.js';
import { postContent, resultCard, statusCard } from './cards.js';
import { parseCardAction, parseMessageEvent, type CardActionEvent, type MessageEvent } from './inbound.js';
import { LarkApi, sdkLogger } from './lark-api.js';
import { linkedPostContent } from './linked-post.js';
import { LarkApiError, toLarkError } from './lark-errors.js';
import type { LarkSettings } from './lark-settings.js';
import { decodeMessage, decodeThread, encodeMessage, encodeThread, PLATFORM, threadOf } from './refs.js';
import { RetrySendIds } from './retry-send-ids.js';
import { WEBHOOK_PATH, webhookHandler } from './webhook.js';

/** Cards can be patched for 14 days; keep an hour's margin: after that an edit is MESSAGE_NOT_EDITABLE. */
export const EDIT_WINDOW_MS = 14 * 24 * 3600_000 - 3600_000;
/** Card callbacks must be answered within 3 s; answer with "working on it" a little before that. */
const ACTION_ANSWER_MS = 2500;

export interface LongConnection { close(): void }

export interface LarkAdapterOptions {
  settings: LarkSettings;
  http: HttpServer;
  log: Logger;
  /** Opens the long connection (LARK_MODE=ws); defaults to the SDK's WSClient. */
  openConnection?: (dispatcher: lark.EventDispatcher) => Promise<LongConnection>;
  actionAnswerMs?: number;
  now?: () => number;
}

/** A `uuid` for an idempotent send: the same parts always give the same id (Lark keeps it for an hour). */
export function sendUuid(...parts: string[]): string {
  return `z${createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 40)}`;
}

type Toast = { toast: { type: 'info' | 'success' | 'warning' | 'error'; content: string } } | Record<string, never>;

export class LarkAdapter implements ChatAdapter {
  readonly platform = PLATFORM;
  // Card PATCH allows 5 edits/s per message; one a second keeps clear of it. IM calls: 1000/min per app.
  readonly pacing: EditPacing = { minIntervalMs: 1000, perWorkspacePerMinute: 600 };
  readonly api: LarkApi;
  readonly dispatcher: lark.EventDispatcher;
  private inbound: InboundHandlers | undefined;
  private botOpenId = '';
  private connection: LongConnection | undefined;
  private readonly now: () => number;
  private readonly sendIds: RetrySendIds;

  constructor(private readonly o: LarkAdapterOptions) {
    const s = o.settings;
    this.now = o.now ?? Date.now;
    this.sendIds = new RetrySendIds(this.now);
    this.api = new LarkApi({ settings: s, log: o.log });
    this.dispatcher = new lark.EventDispatcher({ logger: sdkLogger(o.log, [s.appSecret]), loggerLevel: lark.LoggerLevel.warn })
      .register({ 'im.message.receive_v1': async (data) => this.onMessage(data as MessageEvent) })
      // Missing from the SDK's typed handles, but dispatched (facts §2).
      .register<{ 'card.action.trigger': (data: unknown) => Promise<Toast> }>({
        'card.action.trigger': async (data) => this.onCardAction(data as CardActionEvent),
      });
    if (s.mode === 'webhook') {
      o.http.app.post(WEBHOOK_PATH, webhookHandler({
        verificationToken: s.verificationToken ?? '', ...(s.encryptKey ? { encryptKey: s.encryptKey } : {}), log: o.log,
        ...(o.now ? { now: o.now } : {}),
        dispatch: async (payload) => this.dispatcher.invoke(payload, { needCheck: false }),
      }));
    }
  }

  async start(inbound: InboundHandlers): Promise<void> {
    const bot = await this.api.botInfo();
    this.botOpenId = bot.openId;
    this.inbound = inbound;
    if (this.o.settings.mode === 'ws') this.connection = await (this.o.openConnection ?? this.openWsClient)(this.dispatcher);
    if (this.o.settings.mode === 'webhook' && !this.o.settings.encryptKey) {
      this.o.log.warn('Lark webhook without LARK_ENCRYPT_KEY: requests are checked by the verification token only (no signature, no signed timestamp). Set an Encrypt Key in the developer console ("Encryption Strategy") and LARK_ENCRYPT_KEY.');
    }
    this.o.log.info({ mode: this.o.settings.mode, bot: bot.name, domain: this.o.settings.domain }, 'lark adapter started');
  }

  async stop(): Promise<void> {
    this.inbound = undefined;
    this.connection?.close();
    this.connection = undefined;
  }

  async reply(thread: string, text: string): Promise<string> {
    const ref = decodeThread(thread);
    const id = await this.sendIds.send(['reply', thread, text], (uuid) => this.api.reply(ref.root, 'post', postContent(text), uuid));
    return encodeMessage({ ...ref, message: id, sentAt: this.now() });
  }

  /** Directory groups for roles bound in the settings file: the person's open department ids (`od-…`). */
  async userGroups(_workspace: string, user: string): Promise<string[]> {
    return this.api.departments(user);
  }

  /**
   * A new thread for scheduled runs: a top-level message in the chat; its replies form the thread. A person's
   * open_id (`ou_…`) as the channel starts it in their direct chat with the bot.
   */
  async startThread(workspace: string, channel: string, text: string): Promise<string> {
    if (channel.startsWith('ou_')) {
      const sent = await this.sendIds.send(['direct-thread', channel, text], (uuid) => this.api.sendDirect(channel, 'post', postContent(text), uuid));
      return encodeThread({ tenant: workspace, chat: sent.chat, root: sent.message });
    }
    const id = await this.sendIds.send(['thread', channel, text], (uuid) => this.api.send(channel, 'post', postContent(text), uuid));
    return encodeThread({ tenant: workspace, chat: channel, root: id });
  }

  /** A direct message from the bot (in the thread itself when the conversation is that direct chat); links clickable. */
  async replyPrivately(to: Conversation, text: string): Promise<'here' | 'direct'> {
    if (to.channelKind === 'dm') {
      const root = decodeThread(to.thread).root;
      await this.sendIds.send(['private', root, text], (uuid) => this.api.reply(root, 'post', linkedPostContent(text), uuid));
      return 'here';
    }
    await this.sendIds.send(['direct', to.user, text], (uuid) => this.api.sendDirect(to.user, 'post', linkedPostContent(text), uuid));
    return 'direct';
  }

  /** An image that is not a job result (the usage chart) in the thread; Lark shows no title with an image. */
  async postFile(thread: string, file: PostedFile, _locale: string): Promise<void> {
    const ref = decodeThread(thread);
    const imageKey = await this.api.uploadImage(file.bytes, file.filename);
    await this.api.reply(ref.root, 'image', { image_key: imageKey }, randomUUID());
  }

  /**
   * The job's status card. Its uuid is fixed per job (a repeated post returns the same card), or per replaced
   * card for the fresh one that carries on after a card could no longer be edited.
   */
  async postStatus(thread: string, view: StatusView, locale: string, options: PostStatusOptions = {}): Promise<string> {
    const ref = decodeThread(thread);
    const uuid = options.replaces ? sendUuid('status-renewed', decodeMessage(options.replaces).message, view.jobId) : sendUuid('status', thread, view.jobId);
    const id = await this.api.reply(ref.root, 'interactive', statusCard(view, locale, thread), uuid);
    return encodeMessage({ ...ref, message: id, sentAt: this.now() });
  }

  /** Patch the card; one older than the edit window is MESSAGE_NOT_EDITABLE without asking Lark. */
  async updateStatus(message: string, view: StatusView, locale: string): Promise<void> {
    const ref = decodeMessage(message);
    if (this.now() - ref.sentAt >= EDIT_WINDOW_MS) {
      throw new LarkApiError({ code: 'MESSAGE_NOT_EDITABLE', detail: 'the card is older than the 14-day edit window' }, `updating card ${ref.message}`);
    }
    await this.api.patchCard(ref.message, statusCard(view, locale, threadOf(ref)));
  }

  async postImage(thread: string, image: DeliveredImage, locale: string): Promise<void> {
    const ref = decodeThread(thread);
    const { jobId, index } = image.metadata;
    try {
      const imageKey = await this.api.uploadImage(await image.read(), image.filename);
      await this.api.reply(ref.root, 'image', { image_key: imageKey }, sendUuid('image', thread, jobId, String(index)));
      await this.api.reply(ref.root, 'interactive', resultCard(image.metadata, locale, thread), sendUuid('result', thread, jobId, String(index)));
    } catch (err) {
      const e = toLarkError(err, 'posting the image');
      // Throttling and outages: throw, and delivery retries later; so for a chat the bot may not post in (the note
      // could not be posted either). Any other refusal will not heal: say so in the thread.
      if (e.code !== 'PLATFORM_REJECTED') throw e;
      this.o.log.warn({ err: e, jobId, index }, 'Lark refused the image; telling the thread');
      await this.api.reply(ref.root, 'post', postContent(t(locale, 'lark.post_failed', { detail: e.message })), sendUuid('post-failed', thread, jobId, String(index)));
    }
  }

  private readonly openWsClient = async (dispatcher: lark.EventDispatcher): Promise<LongConnection> => {
    const s = this.o.settings;
    const ws = new lark.WSClient({
      appId: s.appId, appSecret: s.appSecret, domain: s.domain, autoReconnect: true,
      logger: sdkLogger(this.o.log, [s.appSecret]), loggerLevel: lark.LoggerLevel.warn,
      onError: (err) => this.o.log.error({ err }, 'lark long connection gave up; check LARK_APP_ID / LARK_APP_SECRET and that the app uses long connection'),
      onReconnecting: () => this.o.log.warn('lark long connection lost; reconnecting'),
      onReconnected: () => this.o.log.info('lark long connection back'),
    });
    await ws.start({ eventDispatcher: dispatcher });
    return { close: () => ws.close({ force: true }) };
  };

  /** A message: hand it to the core and return at once (the core acks nothing; Lark only needs our return). */
  private async onMessage(data: MessageEvent): Promise<void> {
    const inbound = this.inbound;
    if (!inbound) return;
    const parsed = parseMessageEvent(data, this.botOpenId, this.o.settings.localeOf);
    if (parsed.kind === 'ignore') {
      this.o.log.debug({ eventId: data.event_id, reason: parsed.reason }, 'lark message ignored');
      return;
    }
    if (parsed.kind === 'unsupported') {
      const root = decodeThread(parsed.thread).root;
      void this.api.reply(root, 'post', postContent(t(parsed.locale, 'lark.unsupported_message')), sendUuid('unsupported', parsed.thread, data.message?.message_id ?? ''))
        .catch((err: unknown) => this.o.log.warn({ err }, 'could not answer a non-text message'));
      return;
    }
    const req = parsed.request;
    void inbound.onRequest(req).catch(async (err: unknown) => {
      this.o.log.error({ err, eventId: req.eventId }, 'lark request failed');
      const root = decodeThread(req.thread).root;
      await this.api.reply(root, 'post', postContent(t(req.locale ?? 'en', 'errors.INTERNAL')), sendUuid('internal-error', req.eventId))
        .catch((e: unknown) => this.o.log.warn({ err: e }, 'could not tell the user about the failure'));
    });
  }

  /** A button click: the core decides; the clicker gets its answer as a toast (or "working on it" after 2.5 s). */
  private async onCardAction(data: CardActionEvent): Promise<Toast> {
    const parsed = parseCardAction(data, this.o.settings.localeOf);
    if (parsed.kind === 'invalid') return { toast: { type: 'error', content: t(parsed.locale, 'lark.button_invalid') } };
    const { action } = parsed;
    const locale = action.locale ?? 'en';
    const inbound = this.inbound;
    if (!inbound) return { toast: { type: 'error', content: t(locale, 'errors.INTERNAL') } };
    const work = inbound.onAction(action);
    const pending = Symbol('pending');
    let result: ActionResult | typeof pending;
    try {
      result = await Promise.race([work, sleep(this.o.actionAnswerMs ?? ACTION_ANSWER_MS, pending, { ref: false })]);
    } catch (err) {
      this.o.log.error({ err, eventId: action.eventId }, 'lark card action failed');
      return { toast: { type: 'error', content: t(locale, 'errors.INTERNAL') } };
    }
    if (result === pending) {
      work.catch((err: unknown) => this.o.log.error({ err, eventId: action.eventId }, 'lark card action failed late'));
      return { toast: { type: 'info', content: t(locale, 'lark.action_pending') } };
    }
    if (!result.message) return {};
    return { toast: { type: result.ok ? 'success' : 'warning', content: result.message } };
  }
}

