/**
 * Single-use sign-in codes: `/zimage gallery` asks for one, the person opens the link, and the code is
 * exchanged exactly once for a session. Kept in Redis (every replica redeems any code), by the SHA-256 of the
 * code only — a Redis dump holds no usable code. A code lives 10 minutes; a redeemed one leaves a mark for a
 * day, so a second use is told "already used" (not "expired"), and the browser that used it can be recognised.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { chatIdentitySchema, type ChatIdentity } from './identity.js';
import { LuaScript } from '../infra/lua-script.js';

export const CODE_TTL_MS = 10 * 60_000;
const USED_TTL_MS = 24 * 3600_000;
const CODE_RE = /^[A-Za-z0-9_-]{43}$/;

export type Redemption =
  | { ok: true; identity: ChatIdentity }
  /** `used`: redeemed before (`session`: by which session); `expired`: too old, or never a code of ours. */
  | { ok: false; reason: 'used'; session: string; at: number }
  | { ok: false; reason: 'expired' };

// KEYS: code, used mark. ARGV: mark JSON (session, at), mark ttl ms. Redeems at most once, atomically.
const REDEEM = new LuaScript(`
local used = redis.call('get', KEYS[2])
if used then return {'used', used} end
local rec = redis.call('get', KEYS[1])
if not rec then return {'expired', ''} end
redis.call('del', KEYS[1])
redis.call('set', KEYS[2], ARGV[1], 'PX', ARGV[2])
return {'ok', rec}`);

export class SignInCodes {
  constructor(private readonly redis: Redis, private readonly root: string) {}

  private key(kind: 'code' | 'used', code: string): string {
    return `${this.root}:gallery:${kind}:${createHash('sha256').update(code).digest('base64url')}`;
  }

  /** A new code for this identity, valid for `ttlMs` (default 10 minutes). */
  async issue(identity: ChatIdentity, ttlMs = CODE_TTL_MS): Promise<string> {
    const code = randomBytes(32).toString('base64url');
    await this.redis.set(this.key('code', code), JSON.stringify({ identity, issuedAt: Date.now() }), 'PX', ttlMs);
    return code;
  }

  /** Whose code this is, without using it (for the page that asks "sign in as …?"). */
  async peek(code: string): Promise<Redemption> {
    if (!CODE_RE.test(code)) return { ok: false, reason: 'expired' };
    const [rec, used] = await this.redis.mget(this.key('code', code), this.key('used', code));
    if (used) return usedOf(used);
    return rec ? parseRecord(rec) : { ok: false, reason: 'expired' };
  }

  /** Use the code for the session `session`: its identity the first time, `used` or `expired` after that. */
  async redeem(code: string, session: string): Promise<Redemption> {
    if (!CODE_RE.test(code)) return { ok: false, reason: 'expired' };
    const [outcome, value] = (await REDEEM.run(this.redis, 2, this.key('code', code), this.key('used', code),
      JSON.stringify({ session, at: Date.now() }), String(USED_TTL_MS))) as [string, string];
    if (outcome === 'used') return usedOf(value);
    if (outcome === 'expired') return { ok: false, reason: 'expired' };
    return parseRecord(value);
  }
}

function usedOf(raw: string): Redemption {
  const m = JSON.parse(raw) as { session?: unknown; at?: unknown };
  return { ok: false, reason: 'used', session: String(m.session ?? ''), at: Number(m.at ?? 0) };
}

function parseRecord(raw: string): Redemption {
  const parsed = chatIdentitySchema.safeParse((JSON.parse(raw) as { identity?: unknown }).identity);
  return parsed.success ? { ok: true, identity: parsed.data } : { ok: false, reason: 'expired' };
}
