/**
 * Playground names. Anyone at the page types a name, so a name is only an identity once it is *claimed*: the
 * first browser session to use it owns it, and no other session can speak under it (or under anything that
 * looks like it) while the claim lasts. A name is compared in two forms:
 *
 * - its identity, `normalizeName`: Unicode NFKC, lower case, single spaces — `ALICE` and `ａｌｉｃｅ` are `alice`;
 * - its look, `nameKey`: the identity's Unicode confusables skeleton (UTS #39 data, via unhomoglyph) — Cyrillic
 *   `аlice` looks like `alice`, `zimаge` like the bot.
 *
 * One look belongs to one identity: a name whose look is taken by a different identity is refused, even in the
 * session that owns the other one, so the audit log never shows two people who cannot be told apart.
 */
import type { Redis } from 'ioredis';
import unhomoglyph from 'unhomoglyph';
import { LuaScript } from '../../src/infra/lua-script.js';

/** 1–40 letters or digits, then also spaces, dots, dashes and underscores (after normalisation). */
const NAME_RE = /^[\p{L}\p{N}][\p{L}\p{N} ._-]{0,39}$/u;

export function normalizeName(raw: string): string {
  return raw.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
}

/** The look of a normalised name: its confusables skeleton, without the characters that only separate. */
export function nameKey(normalized: string): string {
  return unhomoglyph(normalized).toLowerCase().replace(/[\s._-]+/g, '');
}

export type NameCheck =
  | { ok: true; name: string; display: string }
  | { ok: false; code: 'BAD_USER' | 'RESERVED_NAME'; message: string };

/** Whether a typed name can be used at all (before any claim): well formed, and not the bot or a look-alike. */
export function checkName(raw: string, botName: string): NameCheck {
  const display = raw.normalize('NFKC').replace(/\s+/g, ' ').trim();
  const name = normalizeName(raw);
  if (!NAME_RE.test(name)) {
    return { ok: false, code: 'BAD_USER', message: '"user" must be 1–40 letters or digits (spaces, dots, dashes and underscores inside)' };
  }
  if (nameKey(name) === nameKey(botName)) return { ok: false, code: 'RESERVED_NAME', message: `"${display}" is the bot's name (or looks like it): choose another name` };
  return { ok: true, name, display };
}

export type ClaimOutcome =
  | { ok: true }
  | { ok: false; code: 'NAME_TAKEN' | 'NAME_LOOKALIKE' | 'TOO_MANY_NAMES'; message: string };

// KEYS: names hash (look → {name, session, at}), session's names set. ARGV: look, name, session, now, ttl ms, max names per session.
// A claim older than the ttl (unused that long) lapses and can be taken; using a name renews its claim.
const CLAIM = new LuaScript(`
local raw = redis.call('hget', KEYS[1], ARGV[1])
local now = tonumber(ARGV[4])
if raw then
  local c = cjson.decode(raw)
  local live = now - tonumber(c.at) < tonumber(ARGV[5])
  if live and c.name ~= ARGV[2] then return {'NAME_LOOKALIKE', c.name} end
  if live and c.session ~= ARGV[3] then return {'NAME_TAKEN', c.name} end
end
if not raw or cjson.decode(raw).session ~= ARGV[3] then
  if redis.call('scard', KEYS[2]) >= tonumber(ARGV[6]) and redis.call('sismember', KEYS[2], ARGV[1]) == 0 then return {'TOO_MANY_NAMES', ''} end
end
redis.call('hset', KEYS[1], ARGV[1], cjson.encode({ name = ARGV[2], session = ARGV[3], at = now }))
redis.call('sadd', KEYS[2], ARGV[1])
redis.call('pexpire', KEYS[2], ARGV[5])
return {'OK', ARGV[2]}`);

export interface NameClaimsOptions {
  /** A claim not used for this long lapses (default 30 days). */
  ttlMs?: number;
  /** Names one session may hold (a team simulated from one browser; default 20). */
  perSession?: number;
}

/** Name claims shared by every bot replica (Redis). */
export class NameClaims {
  private readonly ttlMs: number;
  private readonly perSession: number;

  constructor(private readonly redis: Redis, private readonly prefix: string, o: NameClaimsOptions = {}) {
    this.ttlMs = o.ttlMs ?? 30 * 24 * 3600_000;
    this.perSession = o.perSession ?? 20;
  }

  /** The session that holds a normalised name's live claim, if any (who may read a private message to it). */
  async holder(name: string, now = Date.now()): Promise<string | undefined> {
    const raw = await this.redis.hget(`${this.prefix}:playground:names`, nameKey(name));
    if (!raw) return undefined;
    const c = JSON.parse(raw) as { name: string; session: string; at: number };
    return c.name === name && now - c.at < this.ttlMs ? c.session : undefined;
  }

  /** Claim (or renew) `name` for `session`, unless another session holds it or its look belongs to another name. */
  async claim(name: string, session: string, now = Date.now()): Promise<ClaimOutcome> {
    const key = nameKey(name);
    const [code, holder] = (await CLAIM.run(this.redis, 2, `${this.prefix}:playground:names`, `${this.prefix}:playground:session-names:${session}`,
      key, name, session, String(now), String(this.ttlMs), String(this.perSession))) as [string, string];
    switch (code) {
      case 'OK': return { ok: true };
      case 'NAME_LOOKALIKE': return { ok: false, code, message: `"${name}" looks like "${holder}", who is someone else here: choose a name that cannot be mistaken for another` };
      case 'NAME_TAKEN': return { ok: false, code, message: `"${name}" is in use in another browser session; choose another name (or use that browser)` };
      default: return { ok: false, code: 'TOO_MANY_NAMES', message: `one browser session can use at most ${this.perSession} names` };
    }
  }
}
