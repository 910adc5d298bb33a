/**
 * The few open-platform calls the bot makes, on the node SDK's Client: the bot's own identity, replies
 * into a thread (with `uuid` so a repeated send is not posted twice), card patches, and image uploads.
 * Each call is made once: a failure comes back at once as a LarkApiError with a platform-neutral code
 * (lark-errors.ts) and the core's layer for that call retries it. Only the identity call at start retries a
 * passing outage itself (src/chat/startup-retry.ts): it also fetches the first tenant token, and nothing
 * else would retry a start.
 */
import type { ReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import * as lark from '@larksuiteoapi/node-sdk';
import { retryAtStartup } from '../../src/chat/startup-retry.js';
import type { Logger } from '../../src/infra/logger.js';
import { checkBody, LarkApiError, toLarkError } from './lark-errors.js';
import type { LarkSettings } from './lark-settings.js';

export type MessageType = 'text' | 'post' | 'image' | 'interactive';

export interface LarkApiOptions {
  settings: Pick<LarkSettings, 'appId' | 'appSecret' | 'domain'>;
  log: Logger;
}

interface BotInfoBody { code?: number; msg?: string; bot?: { open_id?: string; app_name?: string } }

/** The SDK logs request configs on errors (bodies may hold the app secret, headers the token): redact first. */
export function sdkLogger(log: Logger, secrets: string[]): lark.Logger {
  const render = (args: unknown[]): string => {
    let text = args.map((a) => {
      if (typeof a === 'string') return a;
      try { return JSON.stringify(a); } catch { return String(a); }
    }).join(' ');
    for (const s of secrets) if (s) text = text.split(s).join('[redacted]');
    text = text.replace(/(Bearer\s+)[^\s"'\\]+/gi, '$1[redacted]').replace(/("(?:tenant|app)_access_token"\s*:\s*")[^"]*/g, '$1[redacted]');
    return text.length > 2000 ? `${text.slice(0, 2000)}…` : text;
  };
  return {
    // Failed calls are classified and logged by the callers; the SDK's own dump (request bodies) is detail.
    error: (...a: unknown[]) => log.debug({ sdk: render(a) }, 'lark sdk error'),
    warn: (...a: unknown[]) => log.warn({ sdk: render(a) }, 'lark sdk warning'),
    info: (...a: unknown[]) => log.debug({ sdk: render(a) }, 'lark sdk'),
    debug: (...a: unknown[]) => log.trace({ sdk: render(a) }, 'lark sdk'),
    trace: (...a: unknown[]) => log.trace({ sdk: render(a) }, 'lark sdk'),
  };
}

export class LarkApi {
  readonly client: lark.Client;

  constructor(private readonly o: LarkApiOptions) {
    const { appId, appSecret, domain } = o.settings;
    this.client = new lark.Client({
      appId, appSecret, domain, appType: lark.AppType.SelfBuild,
      // The SDK's default token cache is process-global (keyed by app id); each adapter keeps its own.
      cache: new lark.DefaultCache(),
      logger: sdkLogger(o.log, [appSecret]), loggerLevel: lark.LoggerLevel.warn,
    });
  }

  /** The bot's own open_id (to recognise mentions of it), from /open-apis/bot/v3/info; called at start. */
  async botInfo(): Promise<{ openId: string; name: string }> {
    const what = 'reading the bot info';
    const body = await retryAtStartup(what, () => call(what, async () => checkBody(
      await this.client.request<BotInfoBody>({ url: '/open-apis/bot/v3/info', method: 'GET' }), what,
    )), this.o.log);
    const openId = body.bot?.open_id;
    if (!openId) throw new LarkApiError({ code: 'PLATFORM_REJECTED', detail: 'the answer has no bot.open_id (is the bot capability enabled?)' }, what);
    return { openId, name: body.bot?.app_name ?? '' };
  }

  /** Reply to `rootId` inside its thread; returns the new message's id. The same `uuid` never posts twice. */
  async reply(rootId: string, msgType: MessageType, content: unknown, uuid: string): Promise<string> {
    const what = `replying to ${rootId}`;
    const body = await call(what, async () => checkBody(await this.client.im.message.reply({
      path: { message_id: rootId },
      data: { msg_type: msgType, content: JSON.stringify(content), reply_in_thread: true, uuid },
    }), what));
    const id = body.data?.message_id;
    if (!id) throw new LarkApiError({ code: 'PLATFORM_UNAVAILABLE', detail: 'the answer has no message_id' }, what);
    return id;
  }

  /** Post a new top-level message into a chat; returns its id. */
  async send(chatId: string, msgType: MessageType, content: unknown, uuid: string): Promise<string> {
    const what = `posting into ${chatId}`;
    const body = await call(what, async () => checkBody(await this.client.im.message.create({
      params: { receive_id_type: 'chat_id' },
      data: { receive_id: chatId, msg_type: msgType, content: JSON.stringify(content), uuid },
    }), what));
    const id = body.data?.message_id;
    if (!id) throw new LarkApiError({ code: 'PLATFORM_UNAVAILABLE', detail: 'the answer has no message_id' }, what);
    return id;
  }

  /** A direct message to a person (their open_id) from the bot; returns the message and its p2p chat. */
  async sendDirect(openId: string, msgType: MessageType, content: unknown, uuid: string): Promise<{ message: string; chat: string }> {
    const what = `sending a direct message to ${openId}`;
    const body = await call(what, async () => checkBody(await this.client.im.message.create({
      params: { receive_id_type: 'open_id' },
      data: { receive_id: openId, msg_type: msgType, content: JSON.stringify(content), uuid },
    }), what));
    const message = body.data?.message_id;
    const chat = body.data?.chat_id;
    if (!message || !chat) throw new LarkApiError({ code: 'PLATFORM_UNAVAILABLE', detail: 'the answer has no message_id or chat_id' }, what);
    return { message, chat };
  }

  /** The open department ids (`od-…`) a person belongs to (needs the contact permission for departments). */
  async departments(openId: string): Promise<string[]> {
    const what = `reading the departments of ${openId}`;
    const body = await call(what, async () => checkBody(await this.client.contact.user.get({
      path: { user_id: openId }, params: { user_id_type: 'open_id', department_id_type: 'open_department_id' },
    }), what));
    return (body.data?.user?.department_ids ?? []).filter((d): d is string => typeof d === 'string');
  }

  /** Replace a card's content. */
  async patchCard(messageId: string, card: unknown): Promise<void> {
    const what = `updating card ${messageId}`;
    await call(what, async () => checkBody(await this.client.im.message.patch({ path: { message_id: messageId }, data: { content: JSON.stringify(card) } }), what));
  }

  /**
   * Upload a PNG for a message; returns its image_key (an answer without one is PLATFORM_UNAVAILABLE). The
   * bytes go as a named stream: a bare Buffer becomes a multipart part without a filename, i.e. a text field.
   */
  async uploadImage(png: Buffer, filename = 'image.png'): Promise<string> {
    const what = 'uploading the image';
    return call(what, async () => {
      const image = Object.assign(Readable.from([png]), { path: filename }) as unknown as ReadStream;
      const res = await this.client.im.image.create({ data: { image_type: 'message', image } });
      if (!res?.image_key) throw new LarkApiError({ code: 'PLATFORM_UNAVAILABLE', detail: 'Lark returned no image_key' }, what);
      return res.image_key;
    });
  }
}

/** Run one SDK call; whatever it throws comes out as a classified LarkApiError. */
async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toLarkError(err, what);
  }
}
