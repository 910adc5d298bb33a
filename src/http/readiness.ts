/**
 * Readiness (`/readyz`): Redis answers and at least one worker is alive. The probe has a bound of its own: an
 * unreachable or hanging Redis is "not ready" within `timeoutMs`, never a request that hangs.
 */
import type { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Keys } from '../jobs/keys.js';
import { liveWorkers } from '../jobs/workers.js';

export interface Readiness {
  ready: boolean;
  redis: boolean;
  workers: number;
}

/** Longest a readiness probe waits for Redis. */
export const READINESS_TIMEOUT_MS = 500;

export async function readiness(redis: Redis, keys: Keys, timeoutMs = READINESS_TIMEOUT_MS): Promise<Readiness> {
  const probe = (async () => {
    const pong = await redis.ping();
    return { redis: pong === 'PONG', workers: await liveWorkers(redis, keys) };
  })();
  const ac = new AbortController();
  const answer = await Promise.race([probe, sleep(timeoutMs, null, { signal: ac.signal })]).catch(() => null);
  ac.abort();
  probe.catch(() => undefined); // a late failure after the timeout goes nowhere
  if (!answer) return { ready: false, redis: false, workers: 0 };
  return { ready: answer.redis && answer.workers > 0, ...answer };
}
