/**
 * Usage figures from the index, for the usage chart (usage-chart.ts): images per day by channel, the wait
 * in line (command accepted → a worker started) at p50 and p95 per day, and the most used templates. Days
 * are calendar days in the given time zone (the quota's). Managers and auditors only; counts cover the whole
 * workspace (visibility.ts, workspaceWhere) — images since deleted included, as they were made.
 */
import { sql, type Kysely } from 'kysely';
import { ZimageError } from '../errors.js';
import type { ChannelKind } from '../jobs/types.js';
import type { LibrarySchema } from './schema.js';
import { canReadUsage, workspaceWhere, type Viewer } from './visibility.js';

export interface UsageQuery {
  from: Date;
  /** Exclusive. */
  to: Date;
  /** IANA time zone of the days (e.g. the quota's Asia/Shanghai). */
  timezone: string;
}

/** One stacked series: a channel, all DMs together (`channel` null, kind `dm`), or the rest (`other`). */
export interface ChannelSeries { channel: string | null; kind: ChannelKind | 'other'; perDay: number[]; total: number }

export interface UsageData {
  timezone: string;
  /** Every day of the range, `YYYY-MM-DD`. */
  days: string[];
  channels: ChannelSeries[];
  /** Milliseconds per day; null on a day without images. */
  wait: { p50: Array<number | null>; p95: Array<number | null> };
  /** Most used first; `template` null = free prompts. */
  templates: Array<{ template: string | null; images: number }>;
  total: number;
}

/** Channels shown on their own; the rest are summed up as one `other` series. */
export const MAX_CHANNEL_SERIES = 8;
export const MAX_TEMPLATES = 8;
/** The longest range a chart covers. */
export const MAX_USAGE_DAYS = 366;

/** The calendar days (in `tz`) from `from` up to `to`. */
export function daysBetween(from: Date, to: Date, tz: string): string[] {
  const fmt = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' });
  const days: string[] = [];
  // Hour by hour, so days of 23 or 25 hours (daylight saving) are neither skipped nor doubled.
  for (let t = from.getTime(); t < to.getTime() && days.length <= MAX_USAGE_DAYS; t += 3600_000) {
    const d = fmt.format(new Date(t));
    if (days.at(-1) !== d) days.push(d);
  }
  const last = fmt.format(new Date(to.getTime() - 1));
  if (to > from && days.at(-1) !== last && days.length <= MAX_USAGE_DAYS) days.push(last);
  return days.slice(0, MAX_USAGE_DAYS);
}

export async function usageData(db: Kysely<LibrarySchema>, viewer: Viewer, q: UsageQuery): Promise<UsageData> {
  if (!canReadUsage(viewer)) throw new ZimageError('LIBRARY_FORBIDDEN', 'usage figures are for managers');
  const days = daysBetween(q.from, q.to, q.timezone);
  // Grouped by its output name (`day`): the same expression twice would carry two different parameters.
  const dayOf = sql<string>`to_char(images.created_at at time zone ${q.timezone}, 'YYYY-MM-DD')`;
  const scoped = db.selectFrom('images').where(workspaceWhere(viewer)).where('images.created_at', '>=', q.from).where('images.created_at', '<', q.to);
  const [perChannel, waits, templates] = await Promise.all([
    scoped.select([dayOf.as('day'), 'images.channel', 'images.channel_kind', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy([sql.ref('day'), 'images.channel', 'images.channel_kind']).execute(),
    scoped.select([
      dayOf.as('day'),
      sql<number>`percentile_cont(0.5) within group (order by images.queue_wait_ms)`.as('p50'),
      sql<number>`percentile_cont(0.95) within group (order by images.queue_wait_ms)`.as('p95'),
    ]).groupBy(sql.ref('day')).execute(),
    scoped.select(['images.template_id', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('images.template_id').orderBy('n', 'desc').orderBy('images.template_id').limit(MAX_TEMPLATES).execute(),
  ]);
  const index = new Map(days.map((d, i) => [d, i]));
  // DMs are one series; channels by their totals, the smallest beyond MAX_CHANNEL_SERIES summed up.
  const series = new Map<string, ChannelSeries>();
  for (const r of perChannel) {
    const id = r.channel_kind === 'dm' ? '\u0000dm' : r.channel;
    const s = series.get(id) ?? { channel: r.channel_kind === 'dm' ? null : r.channel, kind: r.channel_kind, perDay: days.map(() => 0), total: 0 };
    const i = index.get(r.day);
    if (i !== undefined) { s.perDay[i]! += Number(r.n); s.total += Number(r.n); }
    series.set(id, s);
  }
  const ranked = [...series.values()].sort((a, b) => b.total - a.total || (a.channel ?? '').localeCompare(b.channel ?? ''));
  const channels = ranked.slice(0, MAX_CHANNEL_SERIES);
  const rest = ranked.slice(MAX_CHANNEL_SERIES);
  if (rest.length > 0) {
    channels.push({ channel: null, kind: 'other', perDay: days.map((_, i) => rest.reduce((n, s) => n + s.perDay[i]!, 0)), total: rest.reduce((n, s) => n + s.total, 0) });
  }
  const p50 = days.map(() => null as number | null);
  const p95 = days.map(() => null as number | null);
  for (const w of waits) {
    const i = index.get(w.day);
    if (i === undefined) continue;
    p50[i] = Math.round(Number(w.p50));
    p95[i] = Math.round(Number(w.p95));
  }
  return {
    timezone: q.timezone, days, channels, wait: { p50, p95 },
    templates: templates.map((t) => ({ template: t.template_id, images: Number(t.n) })),
    total: channels.reduce((n, s) => n + s.total, 0),
  };
}
