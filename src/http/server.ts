/**
 * The bot's one HTTP port (health, status, metrics, admin, assets, the Playground, platform webhooks) on
 * fastify. The port is hostile territory, so everything a malformed or slow request can reach is bounded
 * here, before any route runs: URL and header parsing (a bad percent-encoding or request target is a 400),
 * body size, the time to send headers and body (slowloris), idle sockets, and a catch-all error handler
 * that turns a handler's unexpected error into a 500 with a request id while the process keeps serving.
 *
 * Bodies are never parsed here: every route receives the raw bytes (`rawBody`), because the Slack and Lark
 * signatures are computed over them; JSON routes call `jsonBody`.
 */
import { randomHex } from '../infra/random-ids.js';
import type { AddressInfo } from 'node:net';
import fastifyCookie from '@fastify/cookie';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from '../infra/logger.js';
import { HttpError, errorBody } from './http-error.js';
import { t } from '../i18n/index.js';
import { isRedisUnavailable } from '../infra/redis-health.js';

export { HttpError, errorBody } from './http-error.js';
export type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export interface HttpLimits {
  /** Largest request body (bytes); larger → 413. */
  bodyLimitBytes: number;
  /** Time a client has to send its headers; slower → 408. */
  headersTimeoutMs: number;
  /** Time a client has to send the whole request (headers and body); slower → 408. */
  requestTimeoutMs: number;
  /** A socket with no traffic for this long is closed (an event stream sends a keep-alive well within it). */
  idleTimeoutMs: number;
  /** Open connections at most; more are refused by the server until some close. */
  maxConnections: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = Object.freeze({
  bodyLimitBytes: 1024 * 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  idleTimeoutMs: 60_000,
  maxConnections: 2048,
});

/** Where the server listens, as the start line and the tests need it. */
export interface BoundAddress { address: string; family: string; port: number }

/**
 * The longest `answered` waits: a burst is acknowledged first, and steady traffic (never a moment with
 * nothing unanswered) is still routed within this.
 */
export const ANSWERED_MAX_WAIT_MS = 200;

/**
 * Routes that stay open (event streams) say so in their config; every other request counts as being
 * answered until its response is sent (see `answered`).
 */
declare module 'fastify' {
  interface FastifyContextConfig { stream?: boolean }
}

export class HttpServer {
  readonly app: FastifyInstance;
  /** Requests received and not answered yet (event streams not counted). */
  private unanswered = 0;
  private readonly waiters = new Set<() => void>();

  constructor(private readonly log: Logger, readonly limits: HttpLimits = DEFAULT_HTTP_LIMITS) {
    this.app = Fastify({
      loggerInstance: log.child({ component: 'http' }) as FastifyBaseLogger,
      logController: new LogController({ disableRequestLogging: true }),
      // Request ids are ours: a client-supplied id could forge log lines or collide.
      requestIdHeader: false,
      genReqId: () => `r${randomHex(6)}`,
      // No child logger per request (a pino child and its redaction for every request is measurable under a
      // burst): the few request log lines name the request id themselves.
      childLoggerFactory: (logger) => logger,
      bodyLimit: limits.bodyLimitBytes,
      requestTimeout: limits.requestTimeoutMs,
      connectionTimeout: limits.idleTimeoutMs,
      keepAliveTimeout: 5_000,
      // Node checks header and request deadlines on this interval (default 30 s, far too coarse for 10 s).
      http: { headersTimeout: limits.headersTimeoutMs, connectionsCheckingInterval: 1_000, maxHeaderSize: 16 * 1024 },
      // Shutdown closes every connection, event streams included: a stop must not wait for a browser tab.
      forceCloseConnections: true,
      return503OnClosing: true,
      routerOptions: { maxParamLength: 200 },
      exposeHeadRoutes: true,
      frameworkErrors: (err, req, reply) => {
        // Malformed URLs (bad percent-encoding) and the like: the client's fault, never the process's.
        req.log.debug({ code: err.code, reqId: req.id }, 'malformed request');
        void (reply as FastifyReply).code(400).send(errorBody('BAD_REQUEST', 'the request URL is malformed'));
      },
    });
    this.app.server.maxConnections = limits.maxConnections;
    void this.app.register(fastifyCookie);
    this.app.removeAllContentTypeParsers();
    this.app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    this.app.addHook('onSend', async (_req, reply, payload) => {
      if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
      reply.header('x-content-type-options', 'nosniff');
      reply.header('referrer-policy', 'no-referrer');
      return payload;
    });
    this.app.addHook('onRequest', (req, reply, done) => {
      if (!req.routeOptions.config.stream) {
        this.unanswered++;
        reply.raw.once('close', () => this.onAnswered());
      }
      done();
    });
    this.app.addHook('onResponse', (req, reply, done) => {
      if (reply.statusCode >= 400 && reply.statusCode < 500) {
        req.log.debug({ reqId: req.id, method: req.method, path: pathOf(req), status: reply.statusCode }, 'request refused');
      }
      done();
    });
    this.app.setNotFoundHandler((req, reply) => {
      void reply.code(404).send(errorBody('NOT_FOUND', `no route for ${req.method} ${pathOf(req)}`));
    });
    this.app.setErrorHandler((err: FastifyError, req, reply) => this.onError(err, req, reply));
  }

  private onError(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
    const status = err instanceof HttpError ? err.status : err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (isRedisUnavailable(err) && !reply.sent && !reply.raw.headersSent) {
      // Redis is unreachable (logged once by the Redis watch): the client may try again shortly.
      void reply.code(503).send(errorBody('UNAVAILABLE', t('en', 'errors.UNAVAILABLE')));
      return;
    }
    if (status < 500) {
      const code = err instanceof HttpError ? err.code : httpCodeOf(err);
      void reply.code(status).send(errorBody(code, err.message, err instanceof HttpError ? err.extra : undefined));
      return;
    }
    this.log.error({ err, reqId: req.id, method: req.method, path: pathOf(req) }, 'http handler failed');
    if (reply.sent || reply.raw.headersSent) {
      reply.raw.destroy();
      return;
    }
    void reply.code(500).send(errorBody('INTERNAL', `internal error (request ${req.id})`, { requestId: req.id }));
  }

  private onAnswered(): void {
    if (--this.unanswered > 0) return;
    for (const w of this.waiters) w();
    this.waiters.clear();
  }

  /**
   * Resolves once every request received so far has been answered (or after `maxWaitMs`, so steady traffic
   * cannot hold it forever) — and never before the event loop has taken the I/O waiting. Work that may come
   * after an acknowledgement (routing a command) waits for it, so a burst of requests is answered first.
   */
  answered(maxWaitMs = ANSWERED_MAX_WAIT_MS): Promise<void> {
    return new Promise((resolve) => {
      setImmediate(() => {
        if (this.unanswered <= 0) return resolve();
        const done = (): void => { clearTimeout(timer); this.waiters.delete(done); resolve(); };
        const timer = setTimeout(done, maxWaitMs);
        this.waiters.add(done);
      });
    });
  }

  /** Listen and return the port (useful with port 0); `addresses()` tells every address bound. */
  async listen(port: number, host: string): Promise<number> {
    await this.app.listen({ port, host, listenTextResolver: (address) => `listening on ${address}` });
    return this.addresses()[0]?.port ?? port;
  }

  /** Every address the server listens on (`localhost` binds both 127.0.0.1 and ::1). */
  addresses(): BoundAddress[] {
    return this.app.addresses().filter((a): a is AddressInfo => typeof a === 'object').map((a) => ({ address: a.address, family: a.family, port: a.port }));
  }

  async close(): Promise<void> {
    await this.app.close();
  }
}

/** The path of a request without its query (for logs: a query can carry a token). */
export function pathOf(req: FastifyRequest): string {
  const url = req.url;
  const q = url.indexOf('?');
  return (q < 0 ? url : url.slice(0, q)).slice(0, 200);
}

function httpCodeOf(err: FastifyError): string {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE': return 'BODY_TOO_LARGE';
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH': return 'BAD_CONTENT_LENGTH';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': return 'UNSUPPORTED_MEDIA_TYPE';
    default: return 'BAD_REQUEST';
  }
}

/** The request's raw body bytes (empty when it had none). */
export function rawBody(req: FastifyRequest): Buffer {
  return Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
}

/**
 * The request's body as a JSON object. JSON endpoints insist on `content-type: application/json`: a web page
 * of another site can only send that after a CORS preflight this server never grants, so a form or `fetch`
 * from elsewhere cannot post on a user's behalf.
 */
export function jsonBody(req: FastifyRequest): Record<string, unknown> {
  const type = String(req.headers['content-type'] ?? '');
  if (!/^application\/json\s*(;|$)/i.test(type)) throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json');
  let value: unknown;
  try {
    value = JSON.parse(rawBody(req).toString('utf8'));
  } catch {
    throw new HttpError(400, 'BAD_JSON', 'request body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new HttpError(400, 'BAD_JSON', 'request body must be a JSON object');
  return value as Record<string, unknown>;
}

/** One header's value (the first, when a client repeated it). */
export function headerOf(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
