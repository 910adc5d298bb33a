/**
 * The Playground's HTTP API and page (README "Playground API"). Every route sits behind PlaygroundAccess,
 * and a name speaks only for the browser session that claimed it (names.ts): the identity the core sees is
 * `playground:local:<normalised name>`, never a string a caller typed as it typed it.
 */
import { randomUUID } from 'node:crypto';
import { contentTypeOf } from '../../src/assets/asset-store.js';
import type { ActionKind, BotRequest, InboundHandlers } from '../../src/chat/types.js';
import { errorBody, jsonBody, type FastifyReply, type FastifyRequest, type HttpServer } from '../../src/http/server.js';
import { normalizeLocale, pageTexts, t } from '../../src/i18n/index.js';
import type { Logger } from '../../src/infra/logger.js';
import { isRedisUnavailable } from '../../src/infra/redis-health.js';
import { withoutLoneSurrogates } from '../../src/infra/lone-surrogates.js';
import type { PlaygroundAccess } from './access.js';
import type { EventStreams } from './event-streams.js';
import { checkName, type NameClaims } from './names.js';
import { serveStatic } from './static.js';
import { BOT_USER, newMessageId, type PlaygroundMessage, type PlaygroundStore } from './store.js';

export const PLATFORM = 'playground';
export const WORKSPACE = 'local';
export const CHANNEL = 'general';
const MAX_TEXT = 8000;
const COMMAND_RE = /^\s*(?:\/zimage|@zimage)(?=\s|$)\s*/i;
const ACTIONS: readonly ActionKind[] = ['cancel', 'regenerate', 'variations'];
/** A claim this replica confirmed is trusted for this long (a claim only lapses after weeks unused). */
const CLAIM_CACHE_MS = 60_000;

export const threadRef = (threadId: string): string => `${PLATFORM}:${threadId}`;

export interface PlaygroundRoutesDeps {
  http: HttpServer;
  access: PlaygroundAccess;
  names: NameClaims;
  store: PlaygroundStore;
  streams: EventStreams;
  inbound: () => InboundHandlers | undefined;
  log: Logger;
}

type Speaker = { user: string; userName: string };

export class PlaygroundRoutes {
  private readonly sessions = new WeakMap<FastifyRequest, string>();
  private readonly confirmed = new Map<string, number>();

  constructor(private readonly d: PlaygroundRoutesDeps) {
    const app = d.http.app;
    const guard = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
      const session = await d.access.admit(req, reply);
      if (!session) return reply;
      this.sessions.set(req, session);
      return undefined;
    };
    const opts = { onRequest: guard };
    app.get('/', opts, (_req, reply) => serveStatic(reply, 'index.html'));
    app.get<{ Params: { '*': string } }>('/playground/*', opts, (req, reply) => serveStatic(reply, req.params['*'] ?? ''));
    // The page's own texts in the browser's language (the page shows English until they arrive).
    app.get<{ Querystring: { locale?: string } }>('/api/playground/texts', opts, (req) => {
      const locale = normalizeLocale(typeof req.query.locale === 'string' ? req.query.locale.slice(0, 35) : 'en');
      return {
        locale,
        texts: { ...pageTexts('playground.page', locale), cancel: t(locale, 'actions.cancel'), regenerate: t(locale, 'actions.regenerate'), variations: t(locale, 'actions.variations_button') },
      };
    });
    app.get('/api/playground/messages', opts, async (req) => ({ messages: await this.visible(req, await d.store.channel()) }));
    app.get<{ Params: { threadId: string } }>('/api/playground/threads/:threadId', opts, async (req, reply) => {
      const messages = await d.store.thread(req.params.threadId);
      if (!messages) return reply.code(404).send(errorBody('THREAD_NOT_FOUND', `no thread ${req.params.threadId}`));
      return { threadId: req.params.threadId, messages: await this.visible(req, messages) };
    });
    app.get('/api/playground/events', { ...opts, config: { stream: true } }, (req, reply) => d.streams.open(req, reply, this.sessions.get(req)));
    app.get<{ Params: { id: string } }>('/api/playground/files/:id', opts, async (req, reply) => {
      const bytes = await d.store.file(req.params.id);
      if (!bytes) return reply.code(404).send(errorBody('NOT_FOUND', 'not found'));
      return reply.header('content-type', contentTypeOf(req.params.id)).header('cache-control', 'private, max-age=86400').send(bytes);
    });
    app.post('/api/playground/messages', opts, (req, reply) => this.postMessage(req, reply));
    app.post('/api/playground/actions', opts, (req, reply) => this.postAction(req, reply));
  }

  /** The messages this browser session may read: private replies only for the session holding their name. */
  private async visible<M extends PlaygroundMessage>(req: FastifyRequest, messages: M[]): Promise<M[]> {
    const session = this.sessions.get(req);
    const holders = new Map<string, Promise<string | undefined>>();
    const holder = (name: string) => {
      if (!holders.has(name)) holders.set(name, this.d.names.holder(name));
      return holders.get(name)!;
    };
    const keep = await Promise.all(messages.map(async (m) => !m.privateTo || (session !== undefined && (await holder(m.privateTo)) === session)));
    return messages.filter((_, i) => keep[i]);
  }

  /** The name a request speaks as, if this browser session may use it (else the request is answered). */
  private async speaker(req: FastifyRequest, reply: FastifyReply, raw: unknown): Promise<Speaker | null> {
    const checked = checkName(typeof raw === 'string' ? raw : '', BOT_USER);
    if (!checked.ok) {
      void reply.code(400).send(errorBody(checked.code, checked.message));
      return null;
    }
    const session = this.sessions.get(req)!;
    const cacheKey = `${session}\0${checked.name}`;
    const now = Date.now();
    if ((this.confirmed.get(cacheKey) ?? 0) <= now) {
      const claim = await this.d.names.claim(checked.name, session, now);
      if (!claim.ok) {
        void reply.code(409).send(errorBody(claim.code, claim.message));
        return null;
      }
      if (this.confirmed.size > 50_000) this.confirmed.clear();
      this.confirmed.set(cacheKey, now + CLAIM_CACHE_MS);
    }
    return { user: checked.name, userName: checked.display };
  }

  /** A chat message (a command when it starts with /zimage); with Redis unreachable: 503, nothing stored or queued. */
  private async postMessage(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const body = jsonBody(req);
    const locale = typeof body.locale === 'string' ? body.locale.slice(0, 35) : undefined;
    try {
      await this.storeMessage(req, reply, body, locale);
    } catch (err) {
      if (!isRedisUnavailable(err) || reply.sent) throw err;
      void reply.code(503).send(errorBody('UNAVAILABLE', t(normalizeLocale(locale ?? 'en'), 'errors.UNAVAILABLE')));
    }
  }

  private async storeMessage(req: FastifyRequest, reply: FastifyReply, body: Record<string, unknown>, locale: string | undefined): Promise<void> {
    // Lone UTF-16 surrogates (broken pastes, fuzzers) become U+FFFD, as a browser would show them.
    const text = typeof body.text === 'string' ? withoutLoneSurrogates(body.text) : '';
    const threadId = typeof body.threadId === 'string' ? body.threadId : undefined;
    if (text.trim() === '' || text.length > MAX_TEXT) return void reply.code(400).send(errorBody('BAD_TEXT', `"text" must be 1–${MAX_TEXT} characters`));
    // A reply meant for a thread must not land in the channel because its id came as a number or an object.
    if (threadId === undefined && body.threadId !== undefined && body.threadId !== null) {
      return void reply.code(400).send(errorBody('BAD_THREAD', '"threadId" must be a thread id (a string), or left out to start a thread'));
    }
    if (threadId !== undefined && !/^m[0-9a-z]{1,40}$/.test(threadId)) return void reply.code(404).send(errorBody('THREAD_NOT_FOUND', 'no such thread'));
    const [who, thread] = await Promise.all([this.speaker(req, reply, body.user), threadId === undefined ? null : this.d.store.thread(threadId)]);
    if (!who) return;
    if (threadId !== undefined && !thread) return void reply.code(404).send(errorBody('THREAD_NOT_FOUND', `no thread ${threadId}`));
    const id = newMessageId();
    const root = threadId ?? id;
    // The message is stored first (so the bot's replies always follow it), then the command is handled; the reply
    // to this POST does not wait for that.
    await this.d.store.add({ id, user: who.user, userName: who.userName, text, ...(threadId ? { threadId } : {}) });
    const command = COMMAND_RE.exec(text);
    const inbound = this.d.inbound();
    if (command && inbound) {
      const request: BotRequest = {
        platform: PLATFORM, workspace: WORKSPACE, channel: CHANNEL, channelKind: 'playground', thread: threadRef(root),
        user: who.user, userName: who.userName, text: text.slice(command[0].length), eventId: id,
        ...(locale ? { locale } : {}),
      };
      inbound.onRequest(request).catch((err: unknown) => this.d.log.error({ err, messageId: id }, 'playground request failed'));
    }
    void reply.code(201).send({ messageId: id, threadId: root });
  }

  /** A button click: `{"user","kind":"cancel"|"regenerate"|"variations","jobId","threadId"}` → the result for the clicker. */
  private async postAction(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const body = jsonBody(req);
    const kind = body.kind as ActionKind;
    const jobId = typeof body.jobId === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(body.jobId) ? body.jobId : '';
    const threadId = typeof body.threadId === 'string' && /^m[0-9a-z]{1,40}$/.test(body.threadId) ? body.threadId : '';
    if (!ACTIONS.includes(kind)) return void reply.code(400).send(errorBody('BAD_ACTION', '"kind" must be cancel, regenerate or variations'));
    const who = await this.speaker(req, reply, body.user);
    if (!who) return;
    if (!jobId || !threadId || !(await this.d.store.thread(threadId))) return void reply.code(404).send(errorBody('NOT_FOUND', 'unknown job or thread'));
    const inbound = this.d.inbound();
    if (!inbound) return void reply.code(503).send(errorBody('NOT_READY', 'the bot is starting'));
    const result = await inbound.onAction({
      kind, jobId, platform: PLATFORM, workspace: WORKSPACE, channel: CHANNEL, channelKind: 'playground', thread: threadRef(threadId),
      user: who.user, userName: who.userName, eventId: randomUUID(),
      ...(typeof body.locale === 'string' ? { locale: body.locale.slice(0, 35) } : {}),
    });
    void reply.send(result);
  }
}
