/**
 * The Playground: a local web page that behaves like a chat channel, standing in for Slack/Lark on a
 * laptop with no configuration. Transport only: it stores messages, turns `/zimage …` (or `@zimage …`)
 * into a BotRequest (routes.ts), and renders status views and images as chat messages. Who may use it and
 * under which name: access.ts and names.ts.
 */
import type { Redis } from 'ioredis';
import { metadataLines, statusHeadline } from '../../src/chat/status-text.js';
import type { ChatAdapter, DeliveredImage, EditPacing, InboundHandlers, PostedFile, StatusView } from '../../src/chat/types.js';
import type { FastifyRequest, HttpServer } from '../../src/http/server.js';
import type { Logger } from '../../src/infra/logger.js';
import type { Conversation, ImageMetadata } from '../../src/jobs/types.js';
import { PlaygroundAccess, type PlaygroundAccessOptions } from './access.js';
import { DEFAULT_EVENT_STREAM_LIMITS, EventStreams, type EventStreamLimits } from './event-streams.js';
import { NameClaims } from './names.js';
import { PLATFORM, PlaygroundRoutes, threadRef } from './routes.js';
import { BOT_USER, PlaygroundStore, type HistoryLimits, type PlaygroundEvent } from './store.js';

export { PLATFORM } from './routes.js';
/**
 * Local page: no platform limits, but a browser needs no more than two updates a second per message, and a
 * channel-wide cap keeps a long line from turning into a flood of edits (front of the line first).
 */
export const PLAYGROUND_PACING: EditPacing = Object.freeze({ minIntervalMs: 500, perWorkspacePerMinute: 3000 });
const TRIM_EVERY_MS = 60_000;

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
  access: Omit<PlaygroundAccessOptions, 'redis' | 'prefix'>;
  streams?: EventStreamLimits;
  history?: HistoryLimits;
}

export class PlaygroundAdapter implements ChatAdapter {
  readonly platform = PLATFORM;
  readonly pacing: EditPacing = PLAYGROUND_PACING;
  readonly store: PlaygroundStore;
  readonly access: PlaygroundAccess;
  readonly streams: EventStreams;
  private readonly names: NameClaims;
  private inbound: InboundHandlers | undefined;
  private trimTimer: NodeJS.Timeout | undefined;

  constructor(private readonly o: PlaygroundOptions) {
    this.store = new PlaygroundStore(o.redis, o.prefix, o.history);
    this.access = new PlaygroundAccess({ ...o.access, redis: o.redis, prefix: o.prefix });
    this.streams = new EventStreams(o.streams ?? DEFAULT_EVENT_STREAM_LIMITS);
    this.names = new NameClaims(o.redis, o.prefix);
    new PlaygroundRoutes({
      http: o.http, access: this.access, names: this.names, store: this.store, streams: this.streams,
      inbound: () => this.inbound, log: o.log,
    });
  }

  /** Whether a request may see a Playground image (asset route): the same access as the page, nothing created. */
  canSeeImage(req: FastifyRequest, metadata: Pick<ImageMetadata, 'platform'>): boolean {
    return metadata.platform === PLATFORM && this.access.allows(req);
  }

  async start(inbound: InboundHandlers): Promise<void> {
    await this.access.start();
    this.inbound = inbound;
    // This bot's own writes go straight to its pages; other replicas' arrive over pub/sub.
    this.store.onWritten = (ev) => this.fanOut(ev);
    await this.o.subscriber.subscribe(this.store.eventsChannel);
    this.o.subscriber.on('message', (channel: string, payload: string) => {
      // Our own events went to our pages as they were written: passed over unparsed.
      if (channel !== this.store.eventsChannel || payload.startsWith(this.store.ownEventPrefix)) return;
      this.fanOut(JSON.parse(payload) as PlaygroundEvent);
    });
    this.streams.start();
    const trim = (): void => {
      this.store.trim().catch((err: unknown) => this.o.log.warn({ err }, 'playground history trim failed'));
    };
    trim();
    this.trimTimer = setInterval(trim, TRIM_EVERY_MS);
    this.trimTimer.unref();
  }

  private fanOut(ev: PlaygroundEvent): void {
    const to = ev.message.privateTo;
    if (to === undefined) return this.streams.broadcast(ev.type, ev.message);
    // A private reply reaches only the pages of the session that holds the name (none, if nobody does).
    this.names.holder(to).then((session) => { if (session) this.streams.broadcast(ev.type, ev.message, session); })
      .catch((err: unknown) => this.o.log.warn({ err }, 'playground: could not deliver a private reply to its page'));
  }

  async stop(): Promise<void> {
    this.store.onWritten = undefined;
    if (this.trimTimer) clearInterval(this.trimTimer);
    this.streams.close();
    // Not waiting for a Redis that is gone (the connection is closed by its owner either way).
    if (this.o.subscriber.status === 'ready') await this.o.subscriber.unsubscribe(this.store.eventsChannel).catch(() => undefined);
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

  /** A reply in the thread that only the browser session holding the person's name is shown. */
  async replyPrivately(to: Conversation, text: string): Promise<'here'> {
    await this.store.add({ user: BOT_USER, text, threadId: idOf(to.thread), privateTo: to.user });
    return 'here';
  }

  /** An image that is not a job result (the usage chart), kept as long as the history and shown in the thread. */
  async postFile(thread: string, file: PostedFile, _locale: string): Promise<void> {
    const ext = /\.(jpe?g|webp)$/i.exec(file.filename)?.[1]?.toLowerCase().replace('jpeg', 'jpg') as 'jpg' | 'webp' | undefined;
    const id = await this.store.putFile(file.bytes, ext ?? 'png');
    await this.store.add({ user: BOT_USER, text: file.title, threadId: idOf(thread), file: { url: `/api/playground/files/${id}`, name: file.filename, title: file.title } });
  }

  async postImage(thread: string, image: DeliveredImage, locale: string): Promise<void> {
    // A stable id: a delivery retried after this post (its "posted" mark was lost) cannot post the image twice.
    await this.store.add({
      id: `m${image.metadata.jobId}i${image.metadata.index}`, user: BOT_USER, threadId: idOf(thread), text: image.metadata.prompt,
      imageUrl: `/assets/${image.assetKey}`, metadata: image.metadata, fields: metadataLines(image.metadata, locale),
    });
  }
}
