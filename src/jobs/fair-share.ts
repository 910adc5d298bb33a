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
import { WAITING_TTL_S } from '../quota/store.js';
import { LuaScript } from '../infra/lua-script.js';

// KEYS: my waiting set, my admitted-but-unranked set, the workspace's weights (person → weight), the
// workspace's levels (person → round reached), the workspace's slot counts (round in tenths → count).
// ARGV: job id, me, my weight, ttl.
// Returns {round × 1000, slot}. Admission puts a job in both of my sets; my jobs admitted at the same moment
// and not ranked yet do not count ahead of this one (three commands sent at once are rounds 1, 2 and 3).
const RANK = new LuaScript(`
redis.call('sadd', KEYS[1], ARGV[1])
redis.call('expire', KEYS[1], tonumber(ARGV[4]))
redis.call('srem', KEYS[2], ARGV[1])
local weight = tonumber(ARGV[3])
local round = (redis.call('scard', KEYS[1]) - redis.call('scard', KEYS[2])) / weight
redis.call('zadd', KEYS[3], weight, ARGV[2])
redis.call('expire', KEYS[3], tonumber(ARGV[4]))
local reached = redis.call('zcount', KEYS[4], tostring(round - 1e-9), '+inf')
local mine = redis.call('zscore', KEYS[4], ARGV[2])
if mine and tonumber(mine) >= round - 1e-9 then reached = reached - 1 end
redis.call('zadd', KEYS[4], tostring(round), ARGV[2])
redis.call('expire', KEYS[4], tonumber(ARGV[4]))
local field = tostring(math.ceil(round * 10 - 1e-9))
local slot = 1
if reached == 0 then redis.call('hset', KEYS[5], field, 1) else slot = redis.call('hincrby', KEYS[5], field, 1) end
redis.call('expire', KEYS[5], tonumber(ARGV[4]))
return {math.ceil(round * 1000 - 1e-6), slot}`);

// KEYS: as RANK (the slot counts unused). ARGV: job id, me. One of my jobs left the line: my round is what my ranked jobs still waiting
// make it; with none left I leave the workspace's sets.
const LEAVE = new LuaScript(`
redis.call('srem', KEYS[1], ARGV[1])
redis.call('srem', KEYS[2], ARGV[1])
local all = redis.call('scard', KEYS[1])
if all == 0 then
  redis.call('zrem', KEYS[3], ARGV[2])
  redis.call('zrem', KEYS[4], ARGV[2])
  return 0
end
local ranked = all - redis.call('scard', KEYS[2])
local weight = tonumber(redis.call('zscore', KEYS[3], ARGV[2]) or '1')
if ranked <= 0 then redis.call('zrem', KEYS[4], ARGV[2]) else redis.call('zadd', KEYS[4], tostring(ranked / weight), ARGV[2]) end
return all`);

export interface FairRank {
  /** The owner's round: their n-th waiting job / their weight. */
  round: number;
  /** 1-based: the owner's workspace's jobs that took a slot in this round while it was occupied, this one included. */
  slot: number;
}

type Owner = { platform: string; workspace: string; user: string };

const keysOf = (keys: Keys, o: Owner): string[] => [
  keys.userWaiting(o.platform, o.workspace, o.user), keys.userUnranked(o.platform, o.workspace, o.user),
  keys.workspaceWaiting(o.platform, o.workspace), keys.workspaceLevels(o.platform, o.workspace),
  keys.workspaceSlots(o.platform, o.workspace),
];

/** Put a job in its owner's waiting set and find its round and slot, in one step. */
export async function fairRank(redis: Redis, keys: Keys, o: Owner, jobId: string, weight = 1): Promise<FairRank> {
  const [round, slot] = (await RANK.run(redis, 5, ...keysOf(keys, o), jobId, o.user, String(Math.max(0.1, weight)), String(WAITING_TTL_S))) as [number, number];
  return { round: Number(round) / 1000, slot: Number(slot) };
}

/** A job left the line (a worker started it, it was cancelled, or it was never written): its owner's round drops. */
export async function leaveLine(redis: Redis, keys: Keys, o: Owner, jobId: string): Promise<void> {
  await LEAVE.run(redis, 5, ...keysOf(keys, o), jobId, o.user);
}
