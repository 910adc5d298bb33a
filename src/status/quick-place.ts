import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

/**
 * A job's place in line in O(log N), for the first status message: running jobs, then the plain wait list,
 * then the prioritised set in score order (facts §3). Null when the job is no longer waiting.
 */
export async function quickPlace(redis: Redis, queue: Queue, jobId: string): Promise<{ position: number; total: number } | null> {
  const k = queue.keys;
  const res = await redis.multi()
    .llen(k.active!)
    .llen(k.wait!)
    .zrank(k.prioritized!, jobId)
    .zcard(k.prioritized!)
    .lpos(k.wait!, jobId)
    .exec();
  if (!res) return null;
  const [active, wait, rank, prioritized, lpos] = res.map((r) => r[1]) as [number, number, number | null, number, number | null];
  const total = active + wait + prioritized;
  if (rank !== null) return { position: active + wait + rank + 1, total };
  if (lpos !== null) return { position: active + (wait - lpos), total };
  return null;
}
