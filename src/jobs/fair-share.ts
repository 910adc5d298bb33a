/**
 * Fair share: people take turns, and within each turn the workspaces take turns. BullMQ orders prioritised
 * jobs by a number fixed when the job is added, made here of two parts:
 *
 * - the owner's round: their n-th waiting job (this one included) divided by their role's weight, so someone
 *   with 30 jobs queued does not hold back anyone's first one, and a role of weight 2 gets twice the turns;
 * - the slot inside that round, counted per workspace: the jobs of the owner's workspace that took a slot in
 *   this round since nobody there last waited at it (this one included). Equal slots of different workspaces
 *   alternate, so 300 new names in one workspace fill slots 1…300 of round 1 there, while the first job of a
 *   person in another workspace takes slot 1 and runs next — a flood in one workspace cannot push another
 *   workspace's people behind it. Inside a workspace the count only grows while its round is occupied, so a
 *   later arrival never goes ahead of someone already waiting in the same round (counting only who is waiting
 *   now would hand a newcomer a lower slot each time people ahead had started: overtaken again and again).
 *
 * Each workspace keeps, per person with jobs waiting, the round they have reached (a sorted set), and per round
 * its slot count (a hash), so a rank is one range count and one increment — the same cost for the 5th person in
 * line as for the 5 000th. A person's round drops when one of their jobs leaves the line (a worker starts it,
 * it is cancelled, or it was never written); a round's count starts over once nobody of the workspace has
 * reached it.
 */
import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';
import { LuaScript } from '../infra/lua-script.js';

/** A person's set of waiting jobs (members leave when a worker starts them or they are cancelled). */
export const WAITING_TTL_S = 7 * 24 * 3600;

// A Lua function for the scripts that rank a job: this one, and the quota's charge, which ranks the job it
// charges in the same step. Arguments: my waiting set, the workspace's weights (person → weight), the
// workspace's levels (person → round reached), the workspace's slot counts (round in tenths → count); job id,
// me, my weight, ttl. Returns {round × 1000, slot}. A job is ranked as it joins my waiting set, so my jobs
// sent at the same moment are rounds 1, 2 and 3; ranking a job that is waiting already moves no count.
export const FAIR_RANK_LUA = `
local function fair_rank(waiting, weights, levels, slots, job, me, weight, ttl)
  local added = redis.call('sadd', waiting, job)
  redis.call('expire', waiting, ttl)
  local round = redis.call('scard', waiting) / weight
  if added == 0 then
    -- Waiting already (a retried submit): its place was taken, nobody's count moves; it goes after everyone
    -- ranked in its round so far.
    return {math.ceil(round * 1000 - 1e-6), tonumber(redis.call('hget', slots, tostring(math.ceil(round * 10 - 1e-9))) or '1')}
  end
  redis.call('zadd', weights, weight, me)
  redis.call('expire', weights, ttl)
  local reached = redis.call('zcount', levels, tostring(round - 1e-9), '+inf')
  local mine = redis.call('zscore', levels, me)
  if mine and tonumber(mine) >= round - 1e-9 then reached = reached - 1 end
  redis.call('zadd', levels, tostring(round), me)
  redis.call('expire', levels, ttl)
  local field = tostring(math.ceil(round * 10 - 1e-9))
  local slot = 1
  if reached == 0 then redis.call('hset', slots, field, 1) else slot = redis.call('hincrby', slots, field, 1) end
  redis.call('expire', slots, ttl)
  return {math.ceil(round * 1000 - 1e-6), slot}
end
`;

// KEYS: the four of fair_rank. ARGV: job id, me, my weight, ttl.
const RANK = new LuaScript(`${FAIR_RANK_LUA}
return fair_rank(KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]))`);

// KEYS: as RANK (the slot counts unused). ARGV: job id, me. One of my jobs left the line: my round is what my jobs
// still waiting make it; with none left I leave the workspace's sets.
const LEAVE = new LuaScript(`
redis.call('srem', KEYS[1], ARGV[1])
local all = redis.call('scard', KEYS[1])
if all == 0 then
  redis.call('zrem', KEYS[2], ARGV[2])
  redis.call('zrem', KEYS[3], ARGV[2])
  return 0
end
local weight = tonumber(redis.call('zscore', KEYS[2], ARGV[2]) or '1')
redis.call('zadd', KEYS[3], tostring(all / weight), ARGV[2])
return all`);

export interface FairRank {
  /** The owner's round: their n-th waiting job / their weight. */
  round: number;
  /** 1-based: the owner's workspace's jobs that took a slot in this round while it was occupied, this one included. */
  slot: number;
}

type Owner = { platform: string; workspace: string; user: string };

/** The four keys of a rank, in fair_rank's order. */
export const rankKeys = (keys: Keys, o: Owner): string[] => [
  keys.userWaiting(o.platform, o.workspace, o.user), keys.workspaceWaiting(o.platform, o.workspace), keys.workspaceLevels(o.platform, o.workspace),
  keys.workspaceSlots(o.platform, o.workspace),
];

/** A weight as the rank scripts take it (at least 0.1). */
export const rankWeight = (weight: number): string => String(Math.max(0.1, weight));

/** The {round × 1000, slot} a rank script returned. */
export const rankOf = (raw: [number, number]): FairRank => ({ round: Number(raw[0]) / 1000, slot: Number(raw[1]) });

/** Put a job in its owner's waiting set and find its round and slot, in one step. */
export async function fairRank(redis: Redis, keys: Keys, o: Owner, jobId: string, weight = 1): Promise<FairRank> {
  return rankOf((await RANK.run(redis, 4, ...rankKeys(keys, o), jobId, o.user, rankWeight(weight), String(WAITING_TTL_S))) as [number, number]);
}

/** A job left the line (a worker started it, it was cancelled, or it was never written): its owner's round drops. */
export async function leaveLine(redis: Redis, keys: Keys, o: Owner, jobId: string): Promise<void> {
  await LEAVE.run(redis, 4, ...rankKeys(keys, o), jobId, o.user);
}
