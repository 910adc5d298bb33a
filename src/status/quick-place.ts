import type { IRedisTransaction, Queue } from 'bullmq';

/** A job's place in line: 1-based position among the running and waiting jobs, and how many there are. */
export interface QuickPlace { position: number; total: number }

/**
 * A job's place in line in O(log N), for the first status message: running jobs, then the plain wait list,
 * then the prioritised set in score order (facts §3). Its five reads go into the transaction that writes the
 * job (no round trip of their own); `placeOf` reads their answers. Null when the job is no longer waiting.
 */
export function placeReadsIn(tx: IRedisTransaction, queue: Queue, jobId: string): void {
  const k = queue.keys;
  tx.llen(k.active!).llen(k.wait!).runCommand('zrank', [k.prioritized!, jobId]).runCommand('zcard', [k.prioritized!]).runCommand('lpos', [k.wait!, jobId]);
}

/** How many answers of a transaction are `placeReadsIn`'s (its last ones). */
export const PLACE_READS = 5;

/** The place from the five answers `placeReadsIn` added, in their order. */
export function placeOf(answers: unknown[]): QuickPlace | null {
  const [active, wait, rank, prioritized, lpos] = answers as [number, number, number | null, number, number | null];
  const total = active + wait + prioritized;
  if (rank !== null) return { position: active + wait + rank + 1, total };
  if (lpos !== null) return { position: active + (wait - lpos), total };
  return null;
}
