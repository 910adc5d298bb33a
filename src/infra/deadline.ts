/**
 * A point in time by which something must be done (the shutdown bound), and waiting on a promise no longer
 * than that: the work goes on, the caller moves on and decides what to force. It counts on the monotonic
 * clock (`performance.now()`), so a wall-clock step (an NTP correction) neither ends it early nor stretches it.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

export class Deadline {
  /** `at` is on the monotonic clock of `performance.now()`, not a wall-clock time. */
  private constructor(private readonly at: number) {}

  static in(ms: number): Deadline {
    return new Deadline(performance.now() + ms);
  }

  remainingMs(): number {
    return Math.max(0, this.at - performance.now());
  }

  passed(): boolean {
    return performance.now() >= this.at;
  }

  /** A deadline `ms` earlier than this one (kept for the clean-up after a drain, say). */
  earlier(ms: number): Deadline {
    return new Deadline(this.at - ms);
  }

  /** True if `work` settled in time (its failure counts as settled); false once the deadline passed first. */
  async wait(work: Promise<unknown>): Promise<boolean> {
    // A timer may fire a millisecond before the wall clock reaches its time: false only once `passed()` agrees.
    for (;;) {
      if (await settledWithin(work, this.remainingMs())) return true;
      if (this.passed()) return false;
    }
  }
}

/** True if `work` settled within `ms` (fulfilled or rejected); it keeps running either way. */
export async function settledWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  const ac = new AbortController();
  const timedOut = Symbol('timed out');
  try {
    // The losing timer is aborted; Promise.race has a handler on it, so its AbortError goes nowhere.
    return (await Promise.race([work.then(() => true, () => true), sleep(ms, timedOut, { signal: ac.signal })])) !== timedOut;
  } finally {
    ac.abort();
  }
}
