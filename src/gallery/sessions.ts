/**
 * Gallery sessions: an HttpOnly cookie (`zimage_gallery`, `SameSite=Lax`, `Secure` behind an https PUBLIC_URL)
 * that carries the chat identity itself — `<payload>.<mac>`, the payload the identity, a session id and the
 * expiry, the MAC an HMAC-SHA256 under a secret kept in Redis for every replica. Its own secret and its own
 * cookie: a gallery session is never a Playground session, nor the other way round.
 *
 * Signing out revokes the session id in Redis until it would have expired; the check is remembered for a few
 * seconds per replica (a page loads dozens of previews at once).
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { sameSecret } from '../http/secret-compare.js';
import type { FastifyReply, FastifyRequest } from '../http/server.js';
import { chatIdentitySchema, type ChatIdentity } from './identity.js';

export const GALLERY_COOKIE = 'zimage_gallery';
/** A signed-in browser stays signed in for a working day; then `/zimage gallery` again. */
export const SESSION_TTL_MS = 12 * 3600_000;
const REVOKED_CACHE_MS = 5_000;

export interface GallerySession {
  id: string;
  identity: ChatIdentity;
  /** Epoch ms. */
  expiresAt: number;
}

const payloadSchema = z.object({ v: z.literal(1), s: z.string().regex(/^[A-Za-z0-9_-]{22}$/), e: z.number().int(), i: chatIdentitySchema });

export interface GallerySessionsOptions {
  redis: Redis;
  /** Redis key root (`<prefix>:bot`). */
  root: string;
  secureCookies: boolean;
  ttlMs?: number;
  now?: () => number;
}

export class GallerySessions {
  private key: Buffer | undefined;
  private readonly checked = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly o: GallerySessionsOptions) {
    this.now = o.now ?? Date.now;
  }

  async start(): Promise<void> {
    const secretKey = `${this.o.root}:gallery:secret`;
    await this.o.redis.set(secretKey, randomBytes(32).toString('base64url'), 'NX');
    this.key = Buffer.from((await this.o.redis.get(secretKey))!, 'utf8');
  }

  private mac(purpose: string, value: string): string {
    if (!this.key) throw new Error('gallery sessions have not started');
    return createHmac('sha256', this.key).update(`${purpose}\0${value}`).digest('base64url');
  }

  /** A new session id (made before the code is redeemed: the code's mark names the session that used it). */
  static newId(): string {
    return randomBytes(16).toString('base64url');
  }

  /** Set the session cookie for this identity; returns the session. */
  issue(reply: FastifyReply, id: string, identity: ChatIdentity): GallerySession {
    const ttl = this.o.ttlMs ?? SESSION_TTL_MS;
    const expiresAt = this.now() + ttl;
    const payload = Buffer.from(JSON.stringify({ v: 1, s: id, e: expiresAt, i: identity })).toString('base64url');
    void reply.setCookie(GALLERY_COOKIE, `${payload}.${this.mac('session', payload)}`, {
      path: '/', httpOnly: true, sameSite: 'lax', secure: this.o.secureCookies, maxAge: Math.floor(ttl / 1000),
    });
    return { id, identity, expiresAt };
  }

  /** The session a request carries, if its cookie is genuine, unexpired and not signed out. */
  async read(req: FastifyRequest): Promise<GallerySession | undefined> {
    const raw = (req.cookies as Record<string, string | undefined> | undefined)?.[GALLERY_COOKIE];
    const m = /^([A-Za-z0-9_-]{1,3000})\.([A-Za-z0-9_-]{43})$/.exec(raw ?? '');
    if (!m || !this.key || !sameSecret(m[2]!, this.mac('session', m[1]!))) return undefined;
    let parsed;
    try {
      parsed = payloadSchema.safeParse(JSON.parse(Buffer.from(m[1]!, 'base64url').toString('utf8')));
    } catch {
      return undefined;
    }
    if (!parsed.success || parsed.data.e <= this.now()) return undefined;
    const session: GallerySession = { id: parsed.data.s, identity: parsed.data.i, expiresAt: parsed.data.e };
    return (await this.revoked(session.id)) ? undefined : session;
  }

  private async revoked(id: string): Promise<boolean> {
    const now = this.now();
    if ((this.checked.get(id) ?? 0) > now) return false;
    if ((await this.o.redis.exists(this.revokedKey(id))) === 1) return true;
    if (this.checked.size > 10_000) this.checked.clear();
    this.checked.set(id, now + REVOKED_CACHE_MS);
    return false;
  }

  private revokedKey(id: string): string {
    return `${this.o.root}:gallery:revoked:${id}`;
  }

  /** Sign out: the session ends on every replica, and this browser's cookie is cleared. */
  async revoke(reply: FastifyReply, session: GallerySession): Promise<void> {
    const left = Math.max(1, session.expiresAt - this.now());
    await this.o.redis.set(this.revokedKey(session.id), '1', 'PX', left);
    this.checked.delete(session.id);
    void reply.clearCookie(GALLERY_COOKIE, { path: '/', httpOnly: true, sameSite: 'lax', secure: this.o.secureCookies });
  }

  /** The session's CSRF token (sent by the page in `x-csrf-token` on every change it asks for). */
  csrfToken(session: GallerySession): string {
    return this.mac('csrf', session.id);
  }

  csrfMatches(session: GallerySession, given: string | undefined): boolean {
    return typeof given === 'string' && sameSecret(given, this.csrfToken(session));
  }
}
