/**
 * BullMQ priority of a new job (lower runs first; every job ≥ 1 because un-prioritised jobs would jump the
 * line, facts §3). Users take turns: a user's n-th waiting job gets n × 1000 / weight, so one person's
 * 30 queued jobs interleave with everyone else's first ones; a role with weight 2 gets twice the turns.
 * Scheduled (template) jobs run below every person's job.
 */
export const MAX_PRIORITY = 2 ** 21 - 1;
const STEP = 1000;
const SCHEDULED_BASE = 1_000_000;

export type Lane = 'people' | 'scheduled';

export function jobPriority(pending: number, weight = 1, lane: Lane = 'people'): number {
  const n = Math.max(1, pending);
  const base = lane === 'scheduled' ? SCHEDULED_BASE + n : Math.ceil((n * STEP) / Math.max(0.1, weight));
  return Math.min(MAX_PRIORITY - 1, Math.max(1, base));
}
