import { describe, expect, it } from 'vitest';
import { parseLimit } from '../../src/quota/limits.js';
import { localClock, windowAt } from '../../src/quota/windows.js';
import { jobPriority } from '../../src/jobs/priority.js';

const at = (iso: string): number => Date.parse(iso);

describe('quota windows', () => {
  it('a day in Asia/Shanghai runs from local midnight to local midnight', () => {
    const w = windowAt('day', 'Asia/Shanghai', at('2026-11-24T15:59:59Z')); // 23:59:59 local
    expect(w.id).toBe('day:2026-11-24');
    expect(new Date(w.start).toISOString()).toBe('2026-11-23T16:00:00.000Z');
    expect(new Date(w.end).toISOString()).toBe('2026-11-24T16:00:00.000Z');
    expect(windowAt('day', 'Asia/Shanghai', at('2026-11-24T16:00:00Z')).id).toBe('day:2026-11-25');
  });

  it('weeks start on Monday, months on the 1st, in the configured zone', () => {
    expect(windowAt('week', 'UTC', at('2026-11-29T23:00:00Z')).id).toBe('week:2026-11-23'); // Sunday
    expect(windowAt('week', 'UTC', at('2026-11-30T00:00:00Z')).id).toBe('week:2026-11-30'); // Monday
    const m = windowAt('month', 'Asia/Shanghai', at('2026-12-31T17:00:00Z')); // Jan 1st 01:00 local
    expect(m.id).toBe('month:2027-01');
    const dec = windowAt('month', 'UTC', at('2026-12-15T00:00:00Z'));
    expect(new Date(dec.end).toISOString()).toBe('2027-01-01T00:00:00.000Z');
  });

  it('handles a DST change: the day of the spring-forward in New York is 23 hours long', () => {
    const w = windowAt('day', 'America/New_York', at('2026-03-08T12:00:00Z'));
    expect(w.id).toBe('day:2026-03-08');
    expect(new Date(w.start).toISOString()).toBe('2026-03-08T05:00:00.000Z');
    expect(new Date(w.end).toISOString()).toBe('2026-03-09T04:00:00.000Z');
    expect((w.end - w.start) / 3600_000).toBe(23);
    const fall = windowAt('day', 'America/New_York', at('2026-11-01T12:00:00Z'));
    expect((fall.end - fall.start) / 3600_000).toBe(25);
  });

  it('formats the reset as a local clock time', () => {
    const now = at('2026-11-24T03:00:00Z');
    const w = windowAt('day', 'Asia/Shanghai', now);
    expect(localClock('Asia/Shanghai', w.end, now)).toEqual({ time: '00:00', date: null });
    const month = windowAt('month', 'Asia/Shanghai', now);
    expect(localClock('Asia/Shanghai', month.end, now)).toEqual({ time: '00:00', date: '2026-12-01' });
  });
});

describe('limits and priorities', () => {
  it('parses limits as people write them', () => {
    expect(parseLimit('50/day')).toEqual({ unlimited: false, amount: 50, period: 'day' });
    expect(parseLimit('20 / week')).toEqual({ unlimited: false, amount: 20, period: 'week' });
    expect(parseLimit('unlimited')).toEqual({ unlimited: true });
    expect(parseLimit('50')).toBeNull();
    expect(parseLimit('-5/day')).toBeNull();
  });

  it('priorities are round-major, then the slot in the round; heavier roles get more turns; schedules last', () => {
    const p = (round: number, slot: number) => jobPriority({ round, slot });
    expect(p(1, 1)).toBeLessThan(p(1, 2));
    // Any slot of round 1 comes before round 2: someone's first job before anyone's second.
    expect(p(1, 999)).toBeLessThan(p(2, 1));
    // A role of weight 2: their second waiting job is in round 1 as everyone's first.
    expect(p(2 / 2, 1)).toBe(p(1, 1));
    expect(p(1.5, 1)).toBeLessThan(p(2, 1));
    expect(jobPriority(null, 'scheduled')).toBeGreaterThan(p(99, 999));
    expect(p(1e9, 1e9)).toBeLessThan(2 ** 21);
    expect(p(0, 0)).toBeGreaterThanOrEqual(1);
  });
});
