/** Quota limits as people write them: `50/day`, `20/week`, `300/month`, `unlimited`. */
import { PERIODS, type Period } from './windows.js';

export type Limit = { unlimited: true } | { unlimited: false; amount: number; period: Period };

export const UNLIMITED: Limit = { unlimited: true };
const LIMIT_RE = /^(\d{1,7})\s*\/\s*(day|week|month|d|w|m|天|周|月)$/i;
const ALIASES: Record<string, Period> = { d: 'day', w: 'week', m: 'month', 天: 'day', 周: 'week', 月: 'month' };

export function parseLimit(text: string): Limit | null {
  const s = text.trim().toLowerCase();
  if (s === 'unlimited' || s === 'none' || s === '不限') return UNLIMITED;
  const m = LIMIT_RE.exec(s);
  if (!m) return null;
  const unit = m[2]!.toLowerCase();
  const period = (PERIODS as readonly string[]).includes(unit) ? (unit as Period) : ALIASES[unit]!;
  return { unlimited: false, amount: Number(m[1]), period };
}

export function formatLimit(l: Limit): string {
  return l.unlimited ? 'unlimited' : `${l.amount}/${l.period}`;
}
