/** Cron patterns with a time zone: validation and the next run times (cron-parser, as BullMQ uses). */
import { CronExpressionParser } from 'cron-parser';

export function checkCron(pattern: string, tz: string): string | null {
  const fields = pattern.trim().split(/\s+/).length;
  if (fields < 5 || fields > 6) return 'a cron pattern has 5 fields (minute hour day month weekday), e.g. "0 9 * * 1-5"';
  try {
    CronExpressionParser.parse(pattern, { tz, currentDate: new Date() }).next();
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

export function nextRuns(pattern: string, tz: string, from: number, n = 1): number[] {
  const it = CronExpressionParser.parse(pattern, { tz, currentDate: new Date(from) });
  return Array.from({ length: n }, () => it.next().getTime());
}
