import { describe, expect, it } from 'vitest';
import { EditPacer, type EditCandidate } from '../../src/status/edit-pacer.js';

const c = (message: string, key: string, rank = 2, workspace = 'W'): EditCandidate => ({ message, workspace, key, rank });

describe('status edit coalescing', () => {
  it('edits only when the rendered text changes', () => {
    const p = new EditPacer({ minIntervalMs: 0, perWorkspacePerMinute: 100 });
    p.shown('m1', 'Queued — position 3 of 3', 0);
    expect(p.plan([c('m1', 'Queued — position 3 of 3')], 1000)).toHaveLength(0);
    expect(p.plan([c('m1', 'Queued — position 2 of 3')], 1000)).toHaveLength(1);
  });

  it('edits one message at most once per interval, and never twice at once', () => {
    const p = new EditPacer({ minIntervalMs: 1000, perWorkspacePerMinute: 100 });
    const first = c('m1', 'step 1/8');
    p.begin(first, 0);
    expect(p.plan([c('m1', 'step 2/8')], 1500)).toHaveLength(0); // still in flight
    p.end(first, true, 100);
    expect(p.plan([c('m1', 'step 2/8')], 500)).toHaveLength(0); // too soon
    expect(p.plan([c('m1', 'step 3/8')], 1000)).toHaveLength(1); // the newest text goes out
  });

  it('a final state goes out at once, however recent the last edit (still within the budget)', () => {
    const p = new EditPacer({ minIntervalMs: 3000, perWorkspacePerMinute: 2 });
    const step = c('m1', 'step 8/8', 1);
    p.begin(step, 0);
    p.end(step, true, 100);
    expect(p.plan([c('m1', 'Finishing', 1)], 1000)).toHaveLength(0); // not final: waits for the interval
    expect(p.plan([c('m1', 'Done', 0)], 1000)).toHaveLength(1);
    p.begin(c('m1', 'Done', 0), 1000);
    expect(p.plan([c('m2', 'Done', 0)], 1000)).toHaveLength(0); // the workspace's budget is spent
  });

  it('keeps a workspace under its per-minute budget, front of the line first, finals before all', () => {
    const p = new EditPacer({ minIntervalMs: 0, perWorkspacePerMinute: 3 });
    const plan = p.plan([c('q9', 'a', 11), c('q2', 'b', 4), c('run', 'c', 1), c('fin', 'd', 0), c('q5', 'e', 7)], 0);
    expect(plan.map((x) => x.message)).toEqual(['fin', 'run', 'q2']);
    for (const x of plan) p.begin(x, 0);
    expect(p.plan([c('q9', 'a', 11)], 30_000)).toHaveLength(0);
    expect(p.plan([c('q9', 'a', 11)], 60_001)).toHaveLength(1);
  });

  it('spreads a workspace\'s minute over the minute: a small burst, then the budget as it accrues, finals first', () => {
    const p = new EditPacer({ minIntervalMs: 3000, perWorkspacePerMinute: 45 }); // Slack: 3 at once, then one per 1.33 s
    const line = (now: number) => Array.from({ length: 60 }, (_, i) => c(`m${i}`, `position ${i + 1} at ${Math.floor(now / 10_000)}`, 2 + i));
    const times: number[] = [];
    const send = (now: number, extra: EditCandidate[] = []) => {
      const plan = p.plan([...line(now), ...extra], now);
      for (const x of plan) { p.begin(x, now); p.end(x, true, now); times.push(now); }
      return plan.map((x) => x.message);
    };
    expect(send(0)).toEqual(['m0', 'm1', 'm2']);
    expect(send(500)).toEqual([]);
    expect(send(1400)).toEqual(['m3']);
    // A job that finishes gets the next edit, not the rest of the line.
    expect(send(2800, [c('fin', 'Done', 0)])).toEqual(['fin']);
    for (let now = 3000; now <= 120_000; now += 500) send(now);
    // Never more than 45 in any 60 s, and never more than a few at once.
    for (const t of times) expect(times.filter((x) => x > t - 60_000 && x <= t).length).toBeLessThanOrEqual(45);
    expect(Math.max(...times.map((t) => times.filter((x) => x === t).length))).toBe(3);
    expect(times.filter((t) => t < 10_000).length).toBeLessThanOrEqual(3 + 8);
    expect(times.length).toBeGreaterThanOrEqual(85);
  });

  it('budgets are per workspace', () => {
    const p = new EditPacer({ minIntervalMs: 0, perWorkspacePerMinute: 1 });
    const plan = p.plan([c('a', 'x', 2, 'W1'), c('b', 'x', 3, 'W1'), c('c', 'x', 2, 'W2')], 0);
    expect(plan.map((x) => x.message)).toEqual(['a', 'c']);
  });

  it('200 queued jobs in one workspace never exceed the budget over time (last state wins)', () => {
    const p = new EditPacer({ minIntervalMs: 2000, perWorkspacePerMinute: 50 });
    const sent: number[] = [];
    for (let now = 0; now < 180_000; now += 500) {
      const cands = Array.from({ length: 200 }, (_, i) => c(`m${i}`, `pos ${Math.max(1, i - Math.floor(now / 3000))}`, 2 + i));
      for (const x of p.plan(cands, now)) { p.begin(x, now); p.end(x, true, now); sent.push(now); }
    }
    for (let i = 0; i < sent.length; i++) {
      const inWindow = sent.filter((t) => t > sent[i]! - 60_000 && t <= sent[i]!).length;
      expect(inWindow).toBeLessThanOrEqual(50);
    }
    expect(sent.length).toBeGreaterThan(100);
  });

  it('a refused edit (429) is held back for Retry-After, then retried with the newest text', () => {
    const p = new EditPacer({ minIntervalMs: 1000, perWorkspacePerMinute: 100 });
    const x = c('m', 'Done');
    p.begin(x, 0);
    p.end(x, false, 100, 5000);
    expect(p.plan([c('m', 'Done', 0)], 3000)).toHaveLength(0); // a final too waits for Retry-After
    expect(p.plan([c('m', 'Done', 0)], 5200)).toHaveLength(1);
  });
});
