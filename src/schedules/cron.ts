/**
 * Cron patterns with a time zone: validation and the next run times (cron-parser, as BullMQ uses). A
 * schedule is a five-field pattern (minute hour day month weekday) whose runs are at least the configured
 * interval apart (settings `schedules.minIntervalMinutes`): scheduled runs are not charged to anyone, so a
 * pattern must not turn the GPU into a loop.
 */
import { CronExpressionParser } from 'cron-parser';

/** How many upcoming runs are compared to find the closest two (covers every repeating shape within a year's first runs). */
const SAMPLE_RUNS = 400;

export type CronProblem =
  | { kind: 'fields'; fields: number }
  | { kind: 'invalid'; detail: string }
  | { kind: 'too_often'; gapMinutes: number; minMinutes: number };

export function checkCron(pattern: string, tz: string, minIntervalMinutes: number, now = Date.now()): CronProblem | null {
  const fields = pattern.trim().split(/\s+/).length;
  if (fields !== 5) return { kind: 'fields', fields };
  let runs: number[];
  try {
    runs = nextRuns(pattern, tz, now, SAMPLE_RUNS);
  } catch (err) {
    return { kind: 'invalid', detail: (err as Error).message.split('\n')[0]!.slice(0, 200) };
  }
  let gap = Infinity;
  for (let i = 1; i < runs.length; i++) gap = Math.min(gap, runs[i]! - runs[i - 1]!);
  const gapMinutes = Math.round(gap / 60_000);
  if (gap < minIntervalMinutes * 60_000) return { kind: 'too_often', gapMinutes, minMinutes: minIntervalMinutes };
  return null;
}

export function nextRuns(pattern: string, tz: string, from: number, n = 1): number[] {
  const it = CronExpressionParser.parse(pattern, { tz, currentDate: new Date(from) });
  const out: number[] = [];
  for (let i = 0; i < n && it.hasNext(); i++) out.push(it.next().getTime());
  return out;
}
