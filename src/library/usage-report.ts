/**
 * Usage as pictures in chat: `/zimage usage today|week|month` (managers) posts the usage chart of that quota
 * window in the thread after its figures, and a scheduled usage report (`/zimage schedule add "0 9 * * 1"
 * usage week #managers`) posts the previous, complete window — last week on a Monday morning — as a summary
 * and the chart into a new thread of its channel. Drawn by the library (usage-chart.ts), posted with the
 * adapter's `postFile`.
 */
import type { ChatAdapter } from '../chat/types.js';
import { formatDuration, t } from '../i18n/index.js';
import type { Logger } from '../infra/logger.js';
import { imagesText } from '../quota/format.js';
import { windowAt, type Period } from '../quota/windows.js';
import type { ChartOptions } from './usage-chart.js';
import type { UsageData, UsageQuery } from './usage.js';
import type { Viewer } from './visibility.js';

export interface UsageSource {
  usage(viewer: Viewer, q: UsageQuery): Promise<UsageData>;
  usageChart(viewer: Viewer, q: UsageQuery, o: ChartOptions): Promise<Buffer>;
}

/** The quota window of `period` at `now` (`previous`: the one before it, which has ended). */
export function windowRange(period: Period, tz: string, now: number, previous = false): UsageQuery {
  const current = windowAt(period, tz, now);
  const w = previous ? windowAt(period, tz, current.start - 1) : current;
  return { from: new Date(w.start), to: new Date(w.end), timezone: tz };
}

export interface PostChartInput {
  adapter: ChatAdapter;
  thread: string;
  viewer: Viewer;
  range: UsageQuery;
  locale: string;
  /** The file's title (e.g. "Usage this week"). */
  title: string;
}

/** Draw and post the chart; false (after saying why in the thread) when it could not be drawn or posted. */
export async function postUsageChart(source: UsageSource, log: Logger, i: PostChartInput): Promise<boolean> {
  if (!i.adapter.postFile) return false;
  try {
    const png = await source.usageChart(i.viewer, i.range, { locale: i.locale });
    const day = i.range.from.toISOString().slice(0, 10);
    await i.adapter.postFile(i.thread, { bytes: png, filename: `zimage-usage-${day}.png`, title: i.title }, i.locale);
    return true;
  } catch (err) {
    log.warn({ err, platform: i.viewer.platform }, 'usage chart: could not draw or post it');
    const reason = err instanceof Error ? err.message.slice(0, 200) : String(err);
    await i.adapter.reply(i.thread, t(i.locale, 'library.chart_failed', { reason })).catch(() => undefined);
    return false;
  }
}

/** The figures of a report as lines: the range and total, channels, the worst day's waits, the templates. */
export function reportText(data: UsageData, locale: string): string {
  const L = (key: string, params: Record<string, string | number>) => t(locale, `library.${key}`, params);
  const channels = data.channels.map((s) => {
    const name = s.kind === 'dm' ? t(locale, 'library.chart_dms') : s.kind === 'other' ? t(locale, 'library.chart_other') : `#${s.channel}`;
    return `${name} ${s.total}`;
  });
  const worst = (xs: Array<number | null>): string => {
    const known = xs.filter((x): x is number => x !== null);
    return known.length > 0 ? formatDuration(Math.max(...known), locale) : '—';
  };
  const templates = data.templates.map((x) => `${x.template ?? t(locale, 'library.chart_free_prompt')} ${x.images}`);
  return [
    L('report_title', { from: data.days[0] ?? '', to: data.days.at(-1) ?? '', total: imagesText(data.total, locale) }),
    ...(channels.length > 0 ? [L('report_channels', { channels: channels.join(' · ') })] : []),
    ...(data.total > 0 ? [L('report_wait', { p50: worst(data.wait.p50), p95: worst(data.wait.p95) })] : []),
    ...(templates.length > 0 ? [L('report_templates', { templates: templates.join(' · ') })] : []),
  ].join('\n');
}

/** A scheduled report: the summary, then the chart, in `thread`. */
export async function postUsageReport(source: UsageSource, log: Logger, i: Omit<PostChartInput, 'title'>): Promise<void> {
  const data = await source.usage(i.viewer, i.range);
  await i.adapter.reply(i.thread, reportText(data, i.locale));
  const title = t(i.locale, 'library.report_title', { from: data.days[0] ?? '', to: data.days.at(-1) ?? '', total: imagesText(data.total, i.locale) });
  await postUsageChart(source, log, { ...i, title });
}
