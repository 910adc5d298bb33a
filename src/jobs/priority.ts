/**
 * BullMQ priority of a new job (lower runs first; every job ≥ 1 because un-prioritised jobs would jump the
 * line, facts §3): round-major, then the slot inside the round (fair-share.ts). Rounds are kept in tenths, so
 * role weights still count. Scheduled (template) jobs run below every person's job.
 */
import type { FairRank } from './fair-share.js';

export const MAX_PRIORITY = 2 ** 21 - 1;
/** Slots per round (people of one workspace in one round; more share the last slot, in arrival order). */
const SLOTS = 1000;
const MAX_ROUND_TENTHS = 999;
const SCHEDULED_BASE = 1_000_000;

export type Lane = 'people' | 'scheduled';

export function jobPriority(rank: FairRank | null, lane: Lane = 'people'): number {
  if (lane === 'scheduled' || !rank) return SCHEDULED_BASE + 1;
  const tenths = Math.min(MAX_ROUND_TENTHS, Math.max(1, Math.ceil(rank.round * 10 - 1e-9)));
  const slot = Math.min(SLOTS - 1, Math.max(1, rank.slot));
  return tenths * SLOTS + slot;
}
