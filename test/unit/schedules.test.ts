import { describe, expect, it } from 'vitest';
import { checkCron, nextRuns } from '../../src/schedules/cron.js';
import { formatWhen } from '../../src/schedules/commands.js';
import { varsForRun } from '../../src/schedules/runner.js';

describe('schedule times', () => {
  it('weekday mornings in Shanghai', () => {
    const from = Date.parse('2026-11-27T02:00:00Z'); // Friday 10:00 in Shanghai
    const runs = nextRuns('0 9 * * 1-5', 'Asia/Shanghai', from, 2).map((t) => formatWhen(t, 'Asia/Shanghai'));
    expect(runs).toEqual(['2026-11-30 09:00 (Asia/Shanghai)', '2026-12-01 09:00 (Asia/Shanghai)']);
  });

  it('keeps local time across a DST change', () => {
    const from = Date.parse('2026-10-30T12:00:00Z');
    const runs = nextRuns('0 9 * * *', 'America/New_York', from, 4).map((t) => new Date(t).toISOString());
    expect(runs).toEqual(['2026-10-30T13:00:00.000Z', '2026-10-31T13:00:00.000Z', '2026-11-01T14:00:00.000Z', '2026-11-02T14:00:00.000Z']);
  });

  it('explains a bad pattern: five fields only, valid values, runs at least the minimum interval apart', () => {
    expect(checkCron('0 9 * *', 'UTC', 15)).toEqual({ kind: 'fields', fields: 4 });
    // A seconds field (six fields) is refused although cron-parser would accept it.
    expect(checkCron('*/2 * * * * *', 'UTC', 15)).toEqual({ kind: 'fields', fields: 6 });
    expect(checkCron('0 99 * * *', 'UTC', 15)?.kind).toBe('invalid');
    expect(checkCron('*/15 8-18 * * 1-5', 'Europe/Berlin', 15)).toBeNull();
    expect(checkCron('*/5 * * * *', 'UTC', 15)).toEqual({ kind: 'too_often', gapMinutes: 5, minMinutes: 15 });
    // Two runs a minute apart once a day are still too close.
    expect(checkCron('0,1 9 * * *', 'UTC', 15)).toEqual({ kind: 'too_often', gapMinutes: 1, minMinutes: 15 });
    expect(checkCron('0 9 * * 1', 'UTC', 15)).toBeNull();
    expect(checkCron('*/5 * * * *', 'UTC', 5)).toBeNull();
  });
});

describe('rotation', () => {
  it('rotating variables take one value per run, in order, and wrap', () => {
    const def = { vars: { color: '#FF6A00' }, rotate: { subject: ['a', 'b', 'c'] } };
    expect([1, 2, 3, 4].map((r) => varsForRun(def, r).subject)).toEqual(['a', 'b', 'c', 'a']);
    expect(varsForRun(def, 5)).toEqual({ color: '#FF6A00', subject: 'b' });
  });
});
