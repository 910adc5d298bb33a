/** Human durations in the user's language: exact-ish for elapsed times, coarse for estimates. */
import { t } from './translate.js';

function oneDecimal(x: number): string {
  return (Math.round(x * 10) / 10).toFixed(1);
}

/**
 * An elapsed time: `850 ms`, `3.2 s`, `42 s`, `2 min 5 s`, `1 h 3 min` (zh-CN: `850 毫秒`, `3.2 秒`, `2 分 5 秒` …).
 * Negative or non-finite input counts as 0.
 */
export function formatDuration(ms: number, locale: string): string {
  const safe = Number.isFinite(ms) && ms > 0 ? ms : 0;
  if (safe < 1000) return t(locale, 'units.milliseconds', { n: Math.round(safe) });
  if (safe < 9950) return t(locale, 'units.seconds', { n: oneDecimal(safe / 1000) });
  const totalSeconds = Math.round(safe / 1000);
  if (totalSeconds < 60) return t(locale, 'units.seconds', { n: totalSeconds });
  if (totalSeconds < 3600) {
    const min = Math.floor(totalSeconds / 60);
    const sec = totalSeconds % 60;
    return sec === 0 ? t(locale, 'units.minutes', { n: min }) : t(locale, 'units.minutes_seconds', { min, sec });
  }
  const totalMinutes = Math.round(totalSeconds / 60);
  const h = Math.floor(totalMinutes / 60);
  const min = totalMinutes % 60;
  return min === 0 ? t(locale, 'units.hours', { n: h }) : t(locale, 'units.hours_minutes', { h, min });
}

/**
 * A rough estimate: `about 6 s`, `about 2 min`, `about 1 h` (zh-CN: `约 6 秒`, `约 2 分钟`, `约 1 小时`).
 * Returns undefined when the estimate is unknown (null, negative, not finite): callers then omit it.
 */
export function formatEta(ms: number | null | undefined, locale: string): string | undefined {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return undefined;
  const seconds = Math.max(1, Math.round(ms / 1000));
  let amount: string;
  if (seconds < 60) amount = t(locale, 'units.seconds', { n: seconds });
  else if (seconds < 3600 - 30) amount = t(locale, 'units.minutes', { n: Math.max(1, Math.round(seconds / 60)) });
  else amount = t(locale, 'units.hours', { n: Math.max(1, Math.round(seconds / 3600)) });
  return t(locale, 'units.about', { duration: amount });
}
