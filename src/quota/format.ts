/** Quota wording: the cost line under every result, the refusal, and `/zimage quota`. */
import { t } from '../i18n/index.js';
import type { ChargeInfo } from '../jobs/types.js';
import { localClock } from './windows.js';

/** `resets 00:00 (Asia/Shanghai)` or `resets 2026-12-01 00:00 (UTC)`. */
export function resetText(resetAt: number, timezone: string, locale: string, now = Date.now()): string {
  const { time, date } = localClock(timezone, resetAt, now);
  return t(locale, 'quota.resets', { when: date ? `${date} ${time}` : time, tz: timezone });
}

export function imagesText(n: number, locale: string): string {
  return t(locale, n === 1 ? 'quota.images_one' : 'quota.images_other', { n });
}

/** `1 image · 37 of 50 left today · resets 00:00 (Asia/Shanghai)` */
export function chargeLine(c: ChargeInfo, locale: string, now = Date.now()): string {
  if (c.limit === null) return t(locale, 'quota.cost_unlimited', { cost: imagesText(c.cost, locale) });
  return t(locale, 'quota.cost_line', {
    cost: imagesText(c.cost, locale),
    left: Math.max(0, c.limit - c.used),
    limit: c.limit,
    period: t(locale, `quota.period_${c.period}`),
    reset: resetText(c.resetAt, c.timezone, locale, now),
  });
}
