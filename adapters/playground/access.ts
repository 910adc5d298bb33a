/**
 * Who may use the Playground. It is a local try-out unless a person opens it up on purpose:
 *
 * - `loopback` (the default when the port listens on loopback only): requests must come from this machine
 *   (127.0.0.1 / ::1) and name it in their Host header (a web page elsewhere cannot reach it through DNS
 *   rebinding). Each browser still gets a session cookie, because names are claimed per session.
 * - `token` (the default as soon as the port is reachable from other machines): every page, API call, event
 *   stream and image needs a session, and a session comes only from the access link (`/?token=…`, printed
 *   at start, like Jupyter's), which is exchanged for an HttpOnly cookie and dropped from the address bar.
 *   A wrong or missing token is a 401, and nothing is created.
 *
 * Session cookies are `<id>.<mac>`: the MAC (HMAC-SHA256) is keyed by a secret kept in Redis (shared by the
 * replicas) and by the access token, so a session is checked without a round trip and changing the token
 * ends every session made with the old one.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { isLoopbackHost } from '../../src/config.js';
import { sameSecret } from '../../src/http/secret-compare.js';
import { errorBody, headerOf, type FastifyReply, type FastifyRequest } from '../../src/http/server.js';

export type PlaygroundAccessMode = 'token' | 'loopback';

export const SESSION_COOKIE = 'zimage_pg';
const SESSION_DAYS = 30;

export interface PlaygroundAccessOptions {
  mode: PlaygroundAccessMode;
  redis: Redis;
  prefix: string;
  /** PLAYGROUND_TOKEN; without one, `token` mode generates one (kept in Redis for every replica). */
  token?: string;
  /** Cookies get `Secure` when the Playground is served over https (PUBLIC_URL). */
  secureCookies?: boolean;
}

function peerIsLoopback(req: FastifyRequest): boolean {
  return isLoopbackHost(req.socket.remoteAddress ?? '');
}

/** The host part of a Host header (`localhost:3000`, `[::1]:3000`). */
function hostName(header: string | undefined): string {
  const h = (header ?? '').trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  return h.replace(/:\d+$/, '');
}

export class PlaygroundAccess {
  private key: Buffer | undefined;
  private accessToken: string | undefined;

  constructor(private readonly o: PlaygroundAccessOptions) {}

  get mode(): PlaygroundAccessMode { return this.o.mode; }

  /** The token of the access link (`token` mode, after start). */
  get token(): string | undefined { return this.accessToken; }

  async start(): Promise<void> {
    const root = `${this.o.prefix}:playground`;
    await this.o.redis.set(`${root}:secret`, randomBytes(32).toString('base64url'), 'NX');
    const secret = (await this.o.redis.get(`${root}:secret`))!;
    if (this.o.mode === 'token') {
      if (this.o.token) this.accessToken = this.o.token;
      else {
        await this.o.redis.set(`${root}:token`, randomBytes(24).toString('base64url'), 'NX');
        this.accessToken = (await this.o.redis.get(`${root}:token`))!;
      }
    }
    this.key = createHmac('sha256', secret).update(`${this.o.mode}\0${this.accessToken ?? ''}`).digest();
  }

  private mac(id: string): string {
    return createHmac('sha256', this.key!).update(id).digest('base64url');
  }

  /** The session a request carries, if its cookie is genuine. */
  sessionOf(req: FastifyRequest): string | undefined {
    const raw = (req.cookies as Record<string, string | undefined> | undefined)?.[SESSION_COOKIE];
    const m = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/.exec(raw ?? '');
    if (!m || !this.key) return undefined;
    return sameSecret(m[2]!, this.mac(m[1]!)) ? m[1] : undefined;
  }

  private issue(reply: FastifyReply): string {
    const id = randomBytes(16).toString('base64url');
    void reply.setCookie(SESSION_COOKIE, `${id}.${this.mac(id)}`, {
      path: '/', httpOnly: true, sameSite: 'lax', secure: this.o.secureCookies ?? false, maxAge: SESSION_DAYS * 24 * 3600,
    });
    return id;
  }

  /**
   * The guard in front of every Playground route (and of its images): answers the request itself when it may
   * not pass, else returns the session it belongs to (a new one in loopback mode, or from the access link).
   */
  async admit(req: FastifyRequest, reply: FastifyReply): Promise<string | undefined> {
    if (!this.key) {
      void reply.code(503).send(errorBody('NOT_READY', 'the bot is starting'));
      return undefined;
    }
    if (this.o.mode === 'loopback') {
      if (!peerIsLoopback(req) || !isLoopbackHost(hostName(headerOf(req, 'host')))) {
        void reply.code(403).send(errorBody('LOCAL_ONLY', 'the Playground is open to this machine only (open it as http://localhost:<port>/)'));
        return undefined;
      }
      return this.sessionOf(req) ?? this.issue(reply);
    }
    const session = this.sessionOf(req);
    if (session) return session;
    const given = (req.query as Record<string, unknown> | undefined)?.token;
    if (req.method === 'GET' && typeof given === 'string' && sameSecret(given, this.accessToken!)) {
      this.issue(reply);
      // The token leaves the address bar (and the history) at once; the cookie carries the session from here.
      const url = new URL(req.url, 'http://x');
      url.searchParams.delete('token');
      void reply.redirect(`${url.pathname}${url.search}`, 303);
      return undefined;
    }
    if (req.method === 'GET' && (req.url === '/' || req.url.startsWith('/?'))) {
      void reply.code(401).header('content-type', 'text/html; charset=utf-8').send(UNAUTHORIZED_PAGE);
    } else {
      void reply.code(401).send(errorBody('UNAUTHORIZED', 'the Playground needs its access link (/?token=…, printed when the bot started)'));
    }
    return undefined;
  }

  /** Whether a request may see Playground content (images), without creating anything. */
  allows(req: FastifyRequest): boolean {
    if (!this.key) return false;
    if (this.o.mode === 'loopback') return peerIsLoopback(req) && isLoopbackHost(hostName(headerOf(req, 'host')));
    return this.sessionOf(req) !== undefined;
  }
}

const UNAUTHORIZED_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>zimage Playground — access link needed</title>
<style>body{margin:0;font:15px/1.5 -apple-system,"Segoe UI",Roboto,"Noto Sans","PingFang SC",sans-serif;color:#1d1c1d;background:#f8f8f8}
main{max-width:34rem;margin:12vh auto;padding:1.6rem 1.8rem;background:#fff;border:1px solid #e8e8e8;border-radius:8px;border-top:6px solid #4a154b}
h1{font-size:1.2rem;margin:0 0 .8rem}code{background:#f4ede4;padding:.05rem .3rem;border-radius:3px}</style></head>
<body><main><h1>This Playground needs its access link</h1>
<p>The Playground is reachable from other machines, so it asks for the link the bot printed when it started:
<code>http://&lt;host&gt;:&lt;port&gt;/?token=…</code>. Open that link once; this browser then stays signed in.</p>
<p>Run the bot with <code>PLAYGROUND_TOKEN</code> set to choose the token yourself.</p></main></body></html>`;
