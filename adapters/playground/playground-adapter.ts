/**
 * The Playground: a local web page that behaves like a chat channel, standing in for Slack/Lark on a
 * laptop with no configuration. Transport only: it stores messages, turns `/zimage …` (or `@zimage …`)
 * into a BotRequest, and renders status views and images as chat messages.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { metadataLines, statusHeadline } from '../../src/chat/status-text.js';
import type { ActionKind, BotRequest, ChatAdapter, DeliveredImage, EditPacing, InboundHandlers, StatusView } from '../../src/chat/types.js';
import { errorBody, jsonBody, type FastifyReply, type FastifyRequest, type HttpServer } from '../../src/http/server.js';
import type { Logger } from '../../src/infra/logger.js';
import { EventStreams } from './event-streams.js';
import { serveStatic } from './static.js';
import { BOT_USER, newMessageId, PlaygroundStore, type PlaygroundEvent } from './store.js';

export const PLATFORM = 'playground';
/**
 * Local page: no platform limits, but a browser needs no more than two updates a second per message, and a
 * channel-wide cap keeps a long line from turning into a flood of edits (front of the line first).
 */
export const PLAYGROUND_PACING: EditPacing = Object.freeze({ minIntervalMs: 500, perWorkspacePerMinute: 3000 });
const WORKSPACE = 'local';
const CHANNEL = 'general';
const MAX_TEXT = 8000;
const USER_RE = /^[\p{L}\p{N}][\p{L}\p{N} ._-]{0,39}$/u;
const COMMAND_RE = /^\s*(?:\/zimage|@zimage)(?=\s|$)\s*/i;

const threadRef = (threadId: string): string => `${PLATFORM}:${threadId}`;
function idOf(ref: string): string {
  if (!ref.startsWith(`${PLATFORM}:`)) throw new Error(`not a playground reference: ${ref}`);
  return ref.slice(PLATFORM.length + 1);
}

export interface PlaygroundOptions {
  http: HttpServer;
  redis: Redis;
  /** A dedicated connection for pub/sub (it cannot run other commands). */
  subscriber: Redis;
  prefix: string;
  log: Logger;
}

export class PlaygroundAdapter implements ChatAdapter {
  readonly platform = PLATFORM;
  readonly pacing: EditPacing = PLAYGROUND_PACING;
  readonly store: PlaygroundStore;
  private readonly streams = new EventStreams();
  private inbound: InboundHandlers | undefined;

  constructor(private readonly o: PlaygroundOptions) {
    this.store = new PlaygroundStore(o.redis, o.prefix);
    const app = o.http.app;
    app.post('/api/playground/messages', (req, reply) => this.postMessage(req, reply));
    app.get('/api/playground/messages', async () => ({ messages: await this.store.channel() }));
    app.get<{ Params: { threadId: string } }>('/api/playground/threads/:threadId', async (req, reply) => {
      const messages = await this.store.thread(req.params.threadId);
      if (!messages) return reply.code(404).send(errorBody('THREAD_NOT_FOUND', `no thread ${req.params.threadId}`));
      return { threadId: req.params.threadId, messages };
    });
    app.get('/api/playground/events', (req, reply) => this.streams.open(req, reply));
    app.post('/api/playground/actions', (req, reply) => this.postAction(req, reply));
    app.get('/', (_req, reply) => serveStatic(reply, 'index.html'));
    app.get<{ Params: { '*': string } }>('/playground/*', (req, reply) => serveStatic(reply, req.params['*'] ?? ''));
  }

  async start(inbound: InboundHandlers): Promise<void> {
    this.inbound = inbound;
    // This bot's own writes go straight to its pages; other replicas' arrive over pub/sub.
    this.store.onWritten = (ev) => this.fanOut(ev);
    await this.o.subscriber.subscribe(this.store.eventsChannel);
    this.o.subscriber.on('message', (channel: string, payload: string) => {
      if (channel !== this.store.eventsChannel) return;
      const ev = JSON.parse(payload) as PlaygroundEvent;
      if (ev.from !== this.store.writer) this.fanOut(ev);
    });
    this.streams.start();
  }

  private fanOut(ev: PlaygroundEvent): void {
    this.streams.broadcast(ev.type, ev.message);
  }

  async stop(): Promise<void> {
    this.store.onWritten = undefined;
    this.streams.close();
    await this.o.subscriber.unsubscribe(this.store.eventsChannel).catch(() => undefined);
  }

  async reply(thread: string, text: string): Promise<string> {
    const m = await this.store.add({ user: BOT_USER, text, threadId: idOf(thread) });
    return threadRef(m.id);
  }

  async startThread(_workspace: string, _channel: string, text: string): Promise<string> {
    const m = await this.store.add({ user: BOT_USER, text });
    return threadRef(m.threadId);
  }

  async postStatus(thread: string, view: StatusView, locale: string): Promise<string> {
    const m = await this.store.add({ user: BOT_USER, text: statusHeadline(view, locale), status: view, threadId: idOf(thread) });
    return threadRef(m.id);
  }

  async updateStatus(message: string, view: StatusView, locale: string): Promise<void> {
    await this.store.update(idOf(message), { text: statusHeadline(view, locale), status: view });
  }

  async postImage(thread: string, image: DeliveredImage, locale: string): Promise<void> {
    // A stable id: a delivery retried after this post (its "posted" mark was lost) cannot post the image twice.
    await this.store.add({
      id: `m${image.metadata.jobId}i${image.metadata.index}`, user: BOT_USER, threadId: idOf(thread), text: image.metadata.prompt,
      imageUrl: `/assets/${image.assetKey}`, metadata: image.metadata, fields: metadataLines(image.metadata, locale),
    });
  }

  private async postMessage(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const body = jsonBody(req);
    const user = typeof body.user === 'string' ? body.user.trim() : '';
    // Lone UTF-16 surrogates (broken pastes, fuzzers) become U+FFFD, as a browser would show them.
    const text = typeof body.text === 'string' ? body.text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD') : '';
    const threadId = typeof body.threadId === 'string' ? body.threadId : undefined;
    const locale = typeof body.locale === 'string' ? body.locale : undefined;
    if (!USER_RE.test(user) || user.toLowerCase() === BOT_USER) {
      return void reply.code(400).send(errorBody('BAD_USER', '"user" must be 1–40 letters, digits, spaces, dots, dashes or underscores (and not "zimage")'));
    }
    if (text.trim() === '' || text.length > MAX_TEXT) {
      return void reply.code(400).send(errorBody('BAD_TEXT', `"text" must be 1–${MAX_TEXT} characters`));
    }
    if (threadId !== undefined && !(await this.store.thread(threadId))) {
      return void reply.code(404).send(errorBody('THREAD_NOT_FOUND', `no thread ${threadId}`));
    }
    const id = newMessageId();
    const thread = threadId ?? id;
    // The message is written first on this connection, so the bot's replies always follow it; the command is
    // handled while it is being stored (the reply to this POST waits only for the store).
    const stored = this.store.add({ id, user, text, ...(threadId ? { threadId } : {}) });
    const command = COMMAND_RE.exec(text);
    if (command && this.inbound) {
      const request: BotRequest = {
        platform: PLATFORM, workspace: WORKSPACE, channel: CHANNEL, thread: threadRef(thread),
        user: user.toLowerCase(), userName: user, text: text.slice(command[0].length), eventId: id,
        ...(locale ? { locale } : {}),
      };
      this.inbound.onRequest(request).catch((err: unknown) => this.o.log.error({ err, messageId: id }, 'playground request failed'));
    }
    await stored;
    void reply.code(201).send({ messageId: id, threadId: thread });
  }

  /** A button click: `{"user","kind":"cancel"|"regenerate"|"variations","jobId","threadId"}` → the result for the clicker. */
  private async postAction(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const body = jsonBody(req);
    const user = typeof body.user === 'string' ? body.user.trim() : '';
    const kind = body.kind as ActionKind;
    const jobId = typeof body.jobId === 'string' ? body.jobId : '';
    const threadId = typeof body.threadId === 'string' ? body.threadId : '';
    if (!USER_RE.test(user)) return void reply.code(400).send(errorBody('BAD_USER', '"user" is required'));
    if (!['cancel', 'regenerate', 'variations'].includes(kind)) {
      return void reply.code(400).send(errorBody('BAD_ACTION', '"kind" must be cancel, regenerate or variations'));
    }
    if (!jobId || !(await this.store.thread(threadId))) return void reply.code(404).send(errorBody('NOT_FOUND', 'unknown job or thread'));
    if (!this.inbound) return void reply.code(503).send(errorBody('NOT_READY', 'the bot is starting'));
    const result = await this.inbound.onAction({
      kind, jobId, platform: PLATFORM, workspace: WORKSPACE, channel: CHANNEL, thread: threadRef(threadId),
      user: user.toLowerCase(), userName: user, eventId: randomUUID(),
      ...(typeof body.locale === 'string' ? { locale: body.locale } : {}),
    });
    void reply.send(result);
  }
}
