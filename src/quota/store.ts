/**
 * Quota state in Redis: usage per user per window, charges per job (so a job is charged once and refunded
 * once, whatever retries happen), usage totals per user and channel for reports, and managers' overrides
 * (per-user and per-role limits, explicit roles). Each decision is one Lua script: atomic across replicas.
 * Every change of a role or a limit in a workspace bumps that workspace's version, so a charge made against a
 * limit the bot remembers can check in the same step that the limit still holds.
 */
import type { Redis } from 'ioredis';
import type { Keys } from '../jobs/keys.js';
import { formatLimit, type Limit } from './limits.js';
import { PERIODS, type Period } from './windows.js';
import { LuaScript } from '../infra/lua-script.js';
import { FAIR_RANK_LUA, rankOf, rankWeight, WAITING_TTL_S, type FairRank } from '../jobs/fair-share.js';

const CHARGE_TTL_S = 40 * 24 * 3600;
const STATS_TTL_S = 40 * 24 * 3600;

// KEYS: used, charge, 3 user-stats, 3 channel-stats, version, waiting, the workspace's weights, levels and
//       slot counts (fair-share.ts), [event mark, rate counter].
// ARGV: amount, limit (-1 = none), usedTtl, user, channel, statsTtl, expected version ('' = any), mark TTL,
//       job id, most waiting (-1 = none), most commands in the last minute (-1 = none), generate-queue key prefix, now (ms),
//       the person's weight.
// Returns {outcome, used, repeat[, round × 1000, slot]}: outcome 1 charged (and the job joins the person's waiting
// set, ranked in the same step: its place in line is taken with its charge; a repeat is not ranked again), 0 refused
// (over quota), 2 stale (the version moved: nothing done), 3 duplicate (the event mark was set already: nothing
// done), 4 busy (too many jobs waiting: `used` is how many), 5 rate limited (the event is consumed, nothing
// charged: `used` is the count in the last minute, the third value when the oldest of them leaves the minute).
// Nothing is charged unless the outcome is 1.
const RESERVE = new LuaScript(`${FAIR_RANK_LUA}
if ARGV[7] ~= '' and (redis.call('get', KEYS[9]) or '0') ~= ARGV[7] then return {2, 0, 0} end
if KEYS[14] then
  if not redis.call('set', KEYS[14], '1', 'NX', 'EX', tonumber(ARGV[8])) then return {3, 0, 0} end
  local now = tonumber(ARGV[13])
  redis.call('zremrangebyscore', KEYS[15], '-inf', now - 60000)
  redis.call('zadd', KEYS[15], now, KEYS[14])
  redis.call('pexpire', KEYS[15], 60000)
  local n = redis.call('zcard', KEYS[15])
  if tonumber(ARGV[11]) >= 0 and n > tonumber(ARGV[11]) then
    local oldest = redis.call('zrange', KEYS[15], 0, 0, 'WITHSCORES')
    return {5, n, tonumber(oldest[2]) + 60000}
  end
end
if redis.call('exists', KEYS[2]) == 1 then
  return {1, tonumber(redis.call('get', KEYS[1]) or '0'), 1}
end
local most = tonumber(ARGV[10])
if most >= 0 and redis.call('scard', KEYS[10]) >= most then
  -- Forget jobs that are gone from the queue (removed by an operator, expired): they wait no more.
  for _, id in ipairs(redis.call('smembers', KEYS[10])) do
    if redis.call('exists', ARGV[12] .. id) == 0 then redis.call('srem', KEYS[10], id) end
  end
  local waiting = redis.call('scard', KEYS[10])
  if waiting >= most then return {4, waiting, 0} end
end
local amount = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local used = tonumber(redis.call('get', KEYS[1]) or '0')
if limit >= 0 and used + amount > limit then return {0, used, 0} end
used = redis.call('incrby', KEYS[1], amount)
-- Expiries are set by the write that creates a key (a window's keys live for a fixed time past its end, not
-- past their last write): each call in a script costs Redis a few microseconds, and a charge is the busiest one.
if used == amount then redis.call('expire', KEYS[1], tonumber(ARGV[3])) end
redis.call('hset', KEYS[2], 'state', 'charged', 'amount', amount, 'used', KEYS[1], 'user', ARGV[4], 'channel', ARGV[5],
  'su1', KEYS[3], 'su2', KEYS[4], 'su3', KEYS[5], 'sc1', KEYS[6], 'sc2', KEYS[7], 'sc3', KEYS[8])
redis.call('expire', KEYS[2], ${CHARGE_TTL_S})
for i = 3, 8 do
  if tonumber(redis.call('zincrby', KEYS[i], amount, i <= 5 and ARGV[4] or ARGV[5])) == amount then redis.call('expire', KEYS[i], tonumber(ARGV[6])) end
end
local r = fair_rank(KEYS[10], KEYS[11], KEYS[12], KEYS[13], ARGV[9], ARGV[4], tonumber(ARGV[14]), ${WAITING_TTL_S})
return {1, used, 0, r[1], r[2]}`);

// KEYS: event mark, the person's commands of the last minute (zset: mark → time). ARGV: mark TTL, now (ms).
// Returns {fresh (1/0), commands in the last minute (this one included), when the oldest of them leaves it}.
// A retried event (mark set already) is not counted again; refused commands count (a flood stays refused).
const MARK = new LuaScript(`
if not redis.call('set', KEYS[1], '1', 'NX', 'EX', tonumber(ARGV[1])) then return {0, 0, 0} end
local now = tonumber(ARGV[2])
redis.call('zremrangebyscore', KEYS[2], '-inf', now - 60000)
redis.call('zadd', KEYS[2], now, KEYS[1])
redis.call('pexpire', KEYS[2], 60000)
local oldest = redis.call('zrange', KEYS[2], 0, 0, 'WITHSCORES')
return {1, redis.call('zcard', KEYS[2]), tonumber(oldest[2]) + 60000}`);

// KEYS: charge. Returns the amount given back (0 when never charged or already refunded).
const REFUND = new LuaScript(`
if redis.call('hget', KEYS[1], 'state') ~= 'charged' then return 0 end
local h = redis.call('hmget', KEYS[1], 'amount', 'used', 'user', 'channel', 'su1', 'su2', 'su3', 'sc1', 'sc2', 'sc3')
local amount = tonumber(h[1])
if redis.call('exists', h[2]) == 1 then
  local left = redis.call('decrby', h[2], amount)
  if left < 0 then redis.call('set', h[2], 0, 'KEEPTTL') end
end
for i = 5, 7 do if redis.call('exists', h[i]) == 1 then redis.call('zincrby', h[i], -amount, h[3]) end end
for i = 8, 10 do if redis.call('exists', h[i]) == 1 then redis.call('zincrby', h[i], -amount, h[4]) end end
redis.call('hset', KEYS[1], 'state', 'refunded')
return amount`);

export interface Scope { platform: string; workspace: string }
const scopeId = (s: Scope): string => `${s.platform}:${s.workspace}`;

export interface ReserveArgs {
  jobId: string;
  scope: Scope;
  user: string;
  channel: string;
  amount: number;
  limit: Limit;
  /** Window ids of the limit's period and of every period (for the reports), and the limit window's end. */
  windowId: string;
  windowEnd: number;
  reportWindows: Record<Period, string>;
  now: number;
  /** Charge only if the workspace's limits and roles are still at this version (see snapshot). */
  version?: string;
  /** Set this idempotency mark in the same step (and count the command); an event marked already charges nothing. */
  mark?: { key: string; ttlS: number; rateKey: string; perMinute: number | null };
  /** How many jobs the person may have waiting (null: no bound); their waiting set is the rank's first key. */
  waiting: { most: number | null; queuePrefix: string };
  /** The job is ranked as it is charged (fair-share.ts): the four keys of a rank and the person's weight. */
  rank: { keys: string[]; weight: number };
}

export type ReserveOutcome = 'charged' | 'refused' | 'stale' | 'duplicate' | 'busy' | 'rate_limited';
const OUTCOMES: ReserveOutcome[] = ['refused', 'charged', 'stale', 'duplicate', 'busy', 'rate_limited'];

export class QuotaStore {
  private readonly root: string;
  constructor(private readonly redis: Redis, keys: Keys) {
    this.root = `${keys.root}:q`;
  }

  private usedKey(scope: Scope, user: string, windowId: string): string { return `${this.root}:used:${scopeId(scope)}:${user}:${windowId}`; }
  private chargeKey(jobId: string): string { return `${this.root}:charge:${jobId}`; }
  private statsKey(scope: Scope, windowId: string, what: 'users' | 'channels'): string { return `${this.root}:stats:${scopeId(scope)}:${windowId}:${what}`; }
  private limitsKey(scope: Scope): string { return `${this.root}:limits:${scopeId(scope)}`; }
  private rolesKey(scope: Scope): string { return `${this.root}:roles:${scopeId(scope)}`; }
  private versionKey(scope: Scope): string { return `${this.root}:version:${scopeId(scope)}`; }
  groupsKey(scope: Scope, user: string): string { return `${this.root}:groups:${scopeId(scope)}:${user}`; }

  /** Check and charge in one step; `repeat` true means this job was charged before. */
  async reserve(a: ReserveArgs): Promise<{ outcome: ReserveOutcome; used: number; repeat: boolean; freeAt?: number; rank?: FairRank }> {
    const limit = a.limit.unlimited ? -1 : a.limit.amount;
    const usedTtl = Math.max(60, Math.ceil((a.windowEnd - a.now) / 1000) + 7 * 24 * 3600);
    const keys = [
      this.usedKey(a.scope, a.user, a.windowId), this.chargeKey(a.jobId),
      ...PERIODS.map((p) => this.statsKey(a.scope, a.reportWindows[p], 'users')),
      ...PERIODS.map((p) => this.statsKey(a.scope, a.reportWindows[p], 'channels')),
      // The rank's first key is the person's waiting set.
      this.versionKey(a.scope), ...a.rank.keys, ...(a.mark ? [a.mark.key, a.mark.rateKey] : []),
    ];
    const res = (await RESERVE.run(this.redis, keys.length, ...keys, String(a.amount), String(limit), String(usedTtl), a.user, a.channel,
      String(STATS_TTL_S), a.version ?? '', String(a.mark?.ttlS ?? 0), a.jobId, String(a.waiting.most ?? -1), String(a.mark?.perMinute ?? -1),
      a.waiting.queuePrefix, String(a.now), rankWeight(a.rank.weight))) as [number, number, number, number?, number?];
    const outcome = OUTCOMES[res[0]]!;
    return {
      outcome, used: Number(res[1]), repeat: outcome === 'charged' && res[2] === 1,
      ...(outcome === 'rate_limited' ? { freeAt: Number(res[2]) } : {}),
      ...(res[3] !== undefined ? { rank: rankOf([res[3], res[4]!]) } : {}),
    };
  }

  /** The person's commands of the last minute (a sliding window: no burst of twice the limit across a minute's edge). */
  rateKey(scope: Scope, user: string): string {
    return `${this.root}:rate:${scopeId(scope)}:${user}`;
  }

  /** Set an event's idempotency mark; when it is new, count the command (and say when the minute's oldest leaves). */
  async markEvent(markKey: string, ttlS: number, rateKey: string, now: number): Promise<{ fresh: boolean; count: number; freeAt: number }> {
    const [fresh, count, freeAt] = (await MARK.run(this.redis, 2, markKey, rateKey, String(ttlS), String(now))) as [number, number, number];
    return { fresh: fresh === 1, count: Number(count), freeAt: Number(freeAt) };
  }

  async refund(jobId: string): Promise<number> {
    return Number(await REFUND.run(this.redis, 1, this.chargeKey(jobId)));
  }

  /**
   * Everything a decision needs, in one round trip: the workspace's version, explicit role, managers'
   * overrides, usage per window. The version is read first: a change that lands in between leaves the
   * snapshot newer than its version, never older, so a charge checked against that version errs to "stale".
   */
  async snapshot(scope: Scope, user: string, windowIds: string[]): Promise<{ version: string; role: string | null; overrides: Record<string, string>; used: number[] }> {
    // Three commands in one round trip: the version and every window's count in one MGET.
    const [counts, role, overrides] = await Promise.all([
      this.redis.mget(this.versionKey(scope), ...windowIds.map((w) => this.usedKey(scope, user, w))),
      this.redis.hget(this.rolesKey(scope), user),
      this.redis.hgetall(this.limitsKey(scope)),
    ]);
    return { version: counts[0] ?? '0', role, overrides, used: counts.slice(1).map((c) => Number(c ?? 0)) };
  }

  async resetUsed(scope: Scope, user: string, windowId: string): Promise<void> {
    await this.redis.del(this.usedKey(scope, user, windowId));
  }

  async top(scope: Scope, windowId: string, what: 'users' | 'channels', n = 10): Promise<Array<{ id: string; amount: number }>> {
    const flat = await this.redis.zrevrangebyscore(this.statsKey(scope, windowId, what), '+inf', '1', 'WITHSCORES', 'LIMIT', 0, n);
    const out: Array<{ id: string; amount: number }> = [];
    for (let i = 0; i < flat.length; i += 2) out.push({ id: flat[i]!, amount: Number(flat[i + 1]) });
    return out;
  }

  async total(scope: Scope, windowId: string): Promise<number> {
    const flat = await this.redis.zrange(this.statsKey(scope, windowId, 'channels'), '0', '-1', 'WITHSCORES');
    let sum = 0;
    for (let i = 1; i < flat.length; i += 2) sum += Number(flat[i]);
    return sum;
  }

  async setOverride(scope: Scope, target: `user:${string}` | `role:${string}`, limit: Limit | null): Promise<void> {
    const tx = this.redis.multi();
    if (limit === null) tx.hdel(this.limitsKey(scope), target);
    else tx.hset(this.limitsKey(scope), target, formatLimit(limit));
    await tx.incr(this.versionKey(scope)).exec();
  }

  async setRole(scope: Scope, user: string, role: string | null): Promise<void> {
    const tx = this.redis.multi();
    if (role === null) tx.hdel(this.rolesKey(scope), user);
    else tx.hset(this.rolesKey(scope), user, role);
    await tx.incr(this.versionKey(scope)).exec();
  }
}
