/**
 * Adapter contract driver for the Playground: the real PlaygroundAdapter on the bot's HttpServer with real
 * Redis. Inbound traffic goes through the page's own API (`POST /api/playground/messages`, `POST
 * /api/playground/actions`); what the page shows is read back through `GET /api/playground/messages` and
 * `/threads/:id`, with buttons derived by the page's rule (public/app.js): Cancel on a status message until
 * the job is done, failed or cancelled; Regenerate and Variations on an image. Messages are stored as
 * plain text and rendered with textContent, so nothing in them is markup. There is no platform that could
 * throttle or refuse, so the fault cases of the contract do not apply.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { PlaygroundAdapter } from '../../adapters/playground/playground-adapter.js';
import type { ActionResult, BotRequest } from '../../src/chat/types.js';
import { splitLinks } from '../../src/chat/text-links.js';
import { HttpServer } from '../../src/http/server.js';
import { pgFetch, pgPost } from './playground-http.js';
import { createLogger } from '../../src/infra/logger.js';
import { createRedis } from '../../src/infra/redis.js';
import { InboundRecorder, until, type ShownButton, type ShownFile, type ShownImage, type ShownMessage, type ShownPrivate } from './contract-common.js';
import { REDIS_URL, type PgMessage } from './harness.js';

const ACTIVE = new Set(['queued', 'generating', 'finishing']);

export class PlaygroundContractDriver extends InboundRecorder {
  readonly name = 'Playground';
  readonly user = 'ann';
  readonly workspace = 'local';
  readonly channel = 'general';
  readonly uploadsBytes = false;
  adapter!: PlaygroundAdapter;
  private http!: HttpServer;
  private redis!: Redis;
  private subscriber!: Redis;
  private base = '';

  async setup(): Promise<void> {
    this.http = new HttpServer(createLogger('silent'));
    this.redis = createRedis(REDIS_URL(), 'contract-playground');
    this.subscriber = createRedis(REDIS_URL(), 'contract-playground-sub');
    this.adapter = new PlaygroundAdapter({
      http: this.http, redis: this.redis, subscriber: this.subscriber, prefix: `contract${randomBytes(4).toString('hex')}`,
      log: createLogger(process.env.CONTRACT_TEST_LOG ?? 'silent'), access: { mode: 'loopback' },
    });
    this.base = `http://127.0.0.1:${await this.http.listen(0, '127.0.0.1')}`;
    await this.adapter.start(this.inbound);
  }

  async teardown(): Promise<void> {
    await this.adapter?.stop();
    await this.http?.close();
    await this.subscriber?.quit();
    await this.redis?.quit();
  }

  /** A person types `/zimage a cat` on the page. */
  async newThread(): Promise<{ ref: string; key: string; request: BotRequest }> {
    const before = this.requests.length;
    const res = await this.post('/api/playground/messages', { user: 'Ann', text: '/zimage a cat' });
    if (res.status !== 201) throw new Error(`POST messages → HTTP ${res.status}`);
    const { threadId } = (await res.json()) as { threadId: string };
    const request = await until('the request', () => this.requests[before]);
    return { ref: request.thread, key: threadId, request };
  }

  /** The bot's messages as the page gets them. */
  async messages(): Promise<ShownMessage[]> {
    return (await this.all()).filter((m) => m.user === 'zimage').map((m) => this.shown(m));
  }

  async images(): Promise<ShownImage[]> {
    return (await this.all()).filter((m) => m.imageUrl).map((m) => ({ thread: m.threadId, assetKey: m.imageUrl!.replace(/^\/assets\//, '') }));
  }

  /** Private replies, as the page of the person they are for shows them (Ann's browser session). */
  async privateMessages(): Promise<ShownPrivate[]> {
    return (await this.all('Ann')).filter((m) => m.privateTo).map((m) => ({
      // The page links URLs by the same rule (public/app.js appendLinked); the rest is set as text.
      to: m.privateTo!, thread: m.threadId, text: m.text, links: splitLinks(m.text).flatMap((p) => ('url' in p ? [p.url] : [])), markup: [],
    }));
  }

  /** Files posted into threads, fetched as the page does. */
  async files(): Promise<ShownFile[]> {
    const posted = (await this.all()).filter((m) => m.file);
    return Promise.all(posted.map(async (m) => ({
      thread: m.threadId, title: m.file!.title, bytes: Buffer.from(await (await pgFetch(this.base, m.file!.url)).arrayBuffer()),
    })));
  }

  /** A button click as the page sends it; the answer the page shows (a toast). */
  async click(message: ShownMessage, button: ShownButton): Promise<string | undefined> {
    const raw = button.raw as { kind: string; jobId: string; threadId: string };
    const res = await this.post('/api/playground/actions', { user: 'Ann', ...raw });
    if (res.status !== 200) throw new Error(`POST actions → HTTP ${res.status}`);
    return ((await res.json()) as ActionResult).message;
  }

  private shown(m: PgMessage & { updatedAt?: number }): ShownMessage {
    const buttons: ShownButton[] = [];
    const button = (kind: ShownButton['kind'], jobId: string) => buttons.push({ kind, jobId, raw: { kind, jobId, threadId: m.threadId } });
    if (m.metadata) { button('regenerate', m.metadata.jobId); button('variations', m.metadata.jobId); }
    const status = m.status as { phase: string; jobId?: string } | undefined;
    if (status && ACTIVE.has(status.phase) && status.jobId) button('cancel', status.jobId);
    return {
      thread: m.id === m.threadId ? null : m.threadId, messageId: m.id, text: m.text, markup: [], buttons,
      edits: m.updatedAt ? 1 : 0,
    };
  }

  /** Every message, as the page of `person`'s browser session shows them (by default a session of nobody in particular). */
  private async all(person = ''): Promise<Array<PgMessage & { updatedAt?: number }>> {
    const top = (await (await pgFetch(this.base, '/api/playground/messages', {}, person)).json()) as { messages: PgMessage[] };
    const threads = await Promise.all(top.messages.map(async (t) => {
      const res = await pgFetch(this.base, `/api/playground/threads/${t.threadId}`, {}, person);
      return ((await res.json()) as { messages: Array<PgMessage & { updatedAt?: number }> }).messages;
    }));
    return threads.flat();
  }

  private post(path: string, body: Record<string, unknown>): Promise<Response> {
    return pgPost(this.base, path, body);
  }
}
