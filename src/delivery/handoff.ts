/**
 * Handing a finished job from a worker to the bots. Two paths, one delivery:
 *
 * - the fast lane: the delivery is pushed onto a Redis list that every bot blocks on (BRPOP), so the first
 *   free bot has it one network hop after the worker is done — no queue pick-up, no lock round trip;
 * - the durable path: the same delivery as a `deliver` job, delayed by FAST_LANE.graceMs. It is the
 *   fallback when no bot took the offer in time (bots down or busy), when the fast lane failed (it then
 *   promotes the job at once, so BullMQ's retries, backoff and dead letters apply), or when a bot died while
 *   delivering. It does nothing for a delivery the fast lane finished, and waits while the lane holds it.
 *
 * Both write the same per-image marks and the same final record, so an image is posted once.
 */
import type { JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Keys } from '../jobs/keys.js';
import { deliverJobId } from '../jobs/queues.js';
import type { DeliverJobData } from '../jobs/types.js';
import { LuaScript } from '../infra/lua-script.js';

export const FAST_LANE = Object.freeze({
  /** The durable job waits this long before it runs on its own. */
  graceMs: 30_000,
  /** A bot leaves offers older than this to the durable job (well inside the grace, so the two never overlap). */
  staleMs: 10_000,
  /** How long a bot's claim on a delivery lasts if the bot dies while posting. */
  leaseMs: 5 * 60_000,
  /** Offers kept on the list at most (they are hints: the durable jobs hold every delivery). */
  maxOffers: 10_000,
});

export interface Offer { data: DeliverJobData; offeredAt: number }

// KEYS: offered marker, ready list. ARGV: offer JSON, marker TTL (s), list length cap.
const OFFER = new LuaScript(`
if redis.call('set', KEYS[1], '1', 'NX', 'EX', tonumber(ARGV[2])) then
  redis.call('lpush', KEYS[2], ARGV[1])
  redis.call('ltrim', KEYS[2], 0, tonumber(ARGV[3]) - 1)
  return 1
end
return 0`);

/**
 * Worker side: store the delivery as a delayed `deliver` job and offer it to the fast lane, in one round
 * trip. A job that re-runs (its worker died) offers nothing new: the marker is set once per job.
 */
export async function handOff(connection: Redis, keys: Keys, queue: Queue<DeliverJobData>, data: DeliverJobData, options: JobsOptions): Promise<void> {
  const offer: Offer = { data, offeredAt: Date.now() };
  // The offer goes out first: a bot is waiting for it, while the durable job only has to be there in time.
  await Promise.all([
    OFFER.run(connection, 2, keys.deliveryOffered(data.jobId), keys.deliverReady(), JSON.stringify(offer), String(7 * 24 * 3600), String(FAST_LANE.maxOffers)),
    queue.add('deliver', data, { ...options, jobId: deliverJobId(data.jobId), delay: FAST_LANE.graceMs }),
  ]);
}
