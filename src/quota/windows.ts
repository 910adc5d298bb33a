/**
 * Quota windows (day, week, month) in a configured IANA time zone: which window an instant falls in, and
 * when the next one starts. DST-safe: local midnights are converted to instants by the zone's own offset.
 */
export type Period = 'day' | 'week' | 'month';
export const PERIODS: readonly Period[] = ['day', 'week', 'month'];

interface LocalDate { y: number; m: number; d: number }

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
    });
    formatters.set(tz, f);
  }
  return f;
}

/** Throws a RangeError for an unknown zone (config validation uses this). */
export function assertTimeZone(tz: string): void {
  formatter(tz);
}

function parts(tz: string, at: number): { y: number; m: number; d: number; h: number; mi: number; s: number } {
  const p = Object.fromEntries(formatter(tz).formatToParts(new Date(at)).map((x) => [x.type, x.value]));
  return { y: Number(p.year), m: Number(p.month), d: Number(p.day), h: Number(p.hour), mi: Number(p.minute), s: Number(p.second) };
}

/** Offset of the zone from UTC at an instant, in ms (e.g. +8 h for Asia/Shanghai). */
function offsetAt(tz: string, at: number): number {
  const p = parts(tz, at);
  const asUtc = Date.UTC(p.y, p.m - 1, p.d, p.h, p.mi, p.s);
  return asUtc - Math.floor(at / 1000) * 1000;
}

/** The instant of local midnight starting a local date (the first instant of that date if midnight is skipped). */
export function localMidnight(tz: string, date: LocalDate): number {
  const naive = Date.UTC(date.y, date.m - 1, date.d);
  let guess = naive - offsetAt(tz, naive);
  guess = naive - offsetAt(tz, guess);
  // A DST jump at midnight (e.g. some zones spring forward 00:00→01:00): step to the first valid instant.
  const p = parts(tz, guess);
  if (p.d !== date.d) guess += 3600_000;
  return guess;
}

export function localDate(tz: string, at: number): LocalDate {
  const p = parts(tz, at);
  return { y: p.y, m: p.m, d: p.d };
}

function addDays(date: LocalDate, days: number): LocalDate {
  const t = new Date(Date.UTC(date.y, date.m - 1, date.d + days));
  return { y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate() };
}

/** ISO weekday 1 (Monday) … 7 (Sunday) of a local date. */
function isoWeekday(date: LocalDate): number {
  return ((new Date(Date.UTC(date.y, date.m - 1, date.d)).getUTCDay() + 6) % 7) + 1;
}

const pad = (n: number): string => String(n).padStart(2, '0');

export interface Window {
  /** Stable id of the window, e.g. `day:2026-11-24`, `week:2026-11-23`, `month:2026-11`. */
  id: string;
  start: number;
  /** When the next window starts (the reset time). */
  end: number;
}

/** The last window computed per zone and period: every request asks, and a window lasts at least a day. */
const recent = new Map<string, Window>();

export function windowAt(period: Period, tz: string, at: number): Window {
  const key = `${tz}|${period}`;
  const hit = recent.get(key);
  if (hit && hit.start <= at && at < hit.end) return hit;
  const w = Object.freeze(computeWindow(period, tz, at));
  recent.set(key, w);
  return w;
}

function computeWindow(period: Period, tz: string, at: number): Window {
  const today = localDate(tz, at);
  if (period === 'day') {
    return { id: `day:${today.y}-${pad(today.m)}-${pad(today.d)}`, start: localMidnight(tz, today), end: localMidnight(tz, addDays(today, 1)) };
  }
  if (period === 'week') {
    const monday = addDays(today, 1 - isoWeekday(today));
    return { id: `week:${monday.y}-${pad(monday.m)}-${pad(monday.d)}`, start: localMidnight(tz, monday), end: localMidnight(tz, addDays(monday, 7)) };
  }
  const first = { y: today.y, m: today.m, d: 1 };
  const next = today.m === 12 ? { y: today.y + 1, m: 1, d: 1 } : { y: today.y, m: today.m + 1, d: 1 };
  return { id: `month:${today.y}-${pad(today.m)}`, start: localMidnight(tz, first), end: localMidnight(tz, next) };
}

/** `00:00` style local clock time of an instant (for "resets 00:00 (Asia/Shanghai)"), plus the date when not today. */
export function localClock(tz: string, at: number, now: number): { time: string; date: string | null } {
  const p = parts(tz, at);
  const today = localDate(tz, now);
  const tomorrow = addDays(today, 1);
  const sameDay = (a: LocalDate) => a.y === p.y && a.m === p.m && a.d === p.d;
  const date = sameDay(today) || sameDay(tomorrow) ? null : `${p.y}-${pad(p.m)}-${pad(p.d)}`;
  return { time: `${pad(p.h)}:${pad(p.mi)}`, date };
}
