import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';

/** A worker is live while its heartbeat is younger than this. */
export const WORKER_TTL_MS = 10_000;

export async function heartbeat(redis: Redis, keys: Keys, workerId: string, now = Date.now()): Promise<void> {
  await redis.multi()
    .zadd(keys.workers(), now, workerId)
    .zremrangebyscore(keys.workers(), '-inf', now - 6 * WORKER_TTL_MS)
    .exec();
}

export async function removeWorker(redis: Redis, keys: Keys, workerId: string): Promise<void> {
  await redis.zrem(keys.workers(), workerId);
}

export async function liveWorkers(redis: Redis, keys: Keys, now = Date.now()): Promise<number> {
  return redis.zcount(keys.workers(), now - WORKER_TTL_MS, '+inf');
}
