/**
 * Fair share: people take turns, and within each turn the workspaces take turns. BullMQ orders prioritised
 * jobs by a number fixed when the job is added, made here of two parts:
 *
 * - the owner's round: their n-th waiting job (this one included) divided by their role's weight, so someone
 *   with 30 jobs queued does not hold back anyone's first one, and a role of weight 2 gets twice the turns;
 * - the slot inside that round, counted per workspace: how many people of the owner's workspace have reached
 *   this round (the owner included). Equal slots of different workspaces alternate, so 300 new names in one
 *   workspace fill slots 1…300 of round 1 there, while the first job of a person in another workspace takes
 *   slot 1 and runs next — a flood in one workspace cannot push another workspace's people behind it.
 */
import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';
import { WAITING_TTL_S } from '../quota/store.js';

// KEYS: my waiting set, my admitted-but-unranked set, the workspace's waiting people (zset: person → weight).
// ARGV: job id, me, my weight, ttl, waiting-set key prefix of the workspace.
// Returns {round × 1000, slot}. Admission puts a job in both of my sets; my jobs admitted at the same moment
// and not ranked yet do not count ahead of this one (three commands sent at once are rounds 1, 2 and 3).
const RANK = `
redis.call('sadd', KEYS[1], ARGV[1])
redis.call('expire', KEYS[1], tonumber(ARGV[4]))
redis.call('srem', KEYS[2], ARGV[1])
local weight = tonumber(ARGV[3])
local round = (redis.call('scard', KEYS[1]) - redis.call('scard', KEYS[2])) / weight
redis.call('zadd', KEYS[3], weight, ARGV[2])
redis.call('expire', KEYS[3], tonumber(ARGV[4]))
local slot = 1
local people = redis.call('zrange', KEYS[3], 0, -1, 'WITHSCORES')
for i = 1, #people, 2 do
  local who = people[i]
  if who ~= ARGV[2] then
    local theirs = redis.call('scard', ARGV[5] .. who)
    if theirs == 0 then
      redis.call('zrem', KEYS[3], who)
    elseif theirs / tonumber(people[i + 1]) >= round - 1e-9 then
      slot = slot + 1
    end
  end
end
return {math.ceil(round * 1000 - 1e-6), slot}`;

export interface FairRank {
  /** The owner's round: their n-th waiting job / their weight. */
  round: number;
  /** 1-based: how many people of the owner's workspace have reached this round. */
  slot: number;
}

/** Put a job in its owner's waiting set and find its round and slot, in one step. */
export async function fairRank(redis: Redis, keys: Keys, o: { platform: string; workspace: string; user: string }, jobId: string, weight = 1): Promise<FairRank> {
  const waiting = keys.userWaiting(o.platform, o.workspace, o.user);
  const prefix = waiting.slice(0, waiting.length - o.user.length);
  const [round, slot] = (await redis.eval(RANK, 3, waiting, keys.userUnranked(o.platform, o.workspace, o.user), keys.workspaceWaiting(o.platform, o.workspace),
    jobId, o.user, String(Math.max(0.1, weight)), String(WAITING_TTL_S), prefix)) as [number, number];
  return { round: Number(round) / 1000, slot: Number(slot) };
}
