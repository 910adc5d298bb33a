/** The snapshot in words (templates/messages `ops.*`): one line for the Playground status bar, a short report for chat. */
import { formatDuration, t } from '../i18n/index.js';
import type { OpsSnapshot } from './snapshot.js';

const pct = (x: number): string => `${(x * 100).toFixed(x < 0.1 ? 1 : 0)} %`;

/** Whole minutes of uptime in words; the first minute says "under a minute" rather than "0 ms". */
function uptimeText(minutes: number, locale: string): string {
  return minutes < 1 ? t(locale, 'units.under_a_minute') : formatDuration(minutes * 60_000, locale);
}

function orNoData(ms: number | null, locale: string): string {
  return ms === null ? t(locale, 'ops.no_data') : formatDuration(ms, locale);
}

export function opsSummary(s: OpsSnapshot, locale: string): string {
  return t(locale, 'ops.summary', {
    workers: s.live_workers, active: s.active_requests, queued: s.queue_length,
    wait: orNoData(s.p95_wait_ms, locale), uptime: uptimeText(s.uptime_minutes, locale),
  });
}

export interface ReportOptions {
  /** Show the dead-letter count (managers; see README "Operations"). */
  showDeadLetters: boolean;
}

export function opsReport(s: OpsSnapshot, locale: string, o: ReportOptions): string {
  const minutes = s.window_minutes;
  const lines = [
    t(locale, 'ops.title'),
    t(locale, 'ops.workers', { workers: s.live_workers }),
    t(locale, 'ops.line', { active: s.active_requests, queued: s.queue_length }),
    t(locale, 'ops.wait', { minutes, p95: orNoData(s.p95_wait_ms, locale), mean: orNoData(s.mean_wait_ms, locale) }),
    t(locale, 'ops.response', { minutes, avg: orNoData(s.avg_response_time_ms, locale) }),
  ];
  if (s.failure_rate !== null) {
    lines.push(t(locale, s.jobs_recent === 1 ? 'ops.failures_one' : 'ops.failures_other', { failures: s.failures_recent, jobs: s.jobs_recent, rate: pct(s.failure_rate) }));
  }
  if (s.avg_generation_ms_1024_8steps !== null) lines.push(t(locale, 'ops.speed', { duration: formatDuration(s.avg_generation_ms_1024_8steps, locale) }));
  if (s.gpu_memory_used_gb !== null && s.gpu_memory_total_gb !== null) {
    lines.push(t(locale, 'ops.gpu', { used: s.gpu_memory_used_gb.toFixed(1), total: s.gpu_memory_total_gb.toFixed(1) }));
  }
  lines.push(t(locale, 'ops.uptime', { uptime: uptimeText(s.uptime_minutes, locale) }));
  if (o.showDeadLetters && s.dead_letters > 0) lines.push(t(locale, 'ops.dead_letters', { count: s.dead_letters }));
  if (s.live_workers === 0) lines.push(t(locale, 'ops.no_workers'));
  return lines.join('\n');
}

export { pct as formatRate };
