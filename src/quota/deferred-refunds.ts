/**
 * Refunds that could not be made because Redis was unreachable at that moment (a request was charged and given
 * its place in line, then the job could not be written): retried every second until Redis answers, and made only
 * if the job really was not written (a transaction cut off in flight may have been applied). Kept in this process's memory; what is still
 * owed when the process stops is logged with the job ids.
 */
import type { Logger } from '../infra/logger.js';
import { isRedisUnavailable } from '../infra/redis-health.js';

interface Owed {
  /** Whether the job was not written after all (so what it took is owed back). */
  notWritten: () => Promise<boolean>;
  /** Give it back (idempotent). */
  giveBack: () => Promise<unknown>;
}

export class DeferredRefunds {
  private readonly owed = new Map<string, Owed>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly log: Logger, private readonly everyMs = 1000) {}

  add(jobId: string, notWritten: () => Promise<boolean>, giveBack: () => Promise<unknown>): void {
    this.owed.set(jobId, { notWritten, giveBack });
    this.schedule();
  }

  get size(): number {
    return this.owed.size;
  }

  private schedule(): void {
    if (this.timer || this.owed.size === 0) return;
    this.timer = setTimeout(() => { this.timer = undefined; void this.flush(); }, this.everyMs);
    this.timer.unref();
  }

  /** Try each owed refund once now. */
  async flush(): Promise<void> {
    for (const [jobId, { notWritten, giveBack }] of [...this.owed]) {
      try {
        if (await notWritten()) await giveBack();
        this.owed.delete(jobId);
      } catch (err) {
        if (isRedisUnavailable(err)) continue;
        this.owed.delete(jobId);
        this.log.warn({ err, jobId }, 'could not give a charge back');
      }
    }
    this.schedule();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.owed.size > 0) {
      this.log.warn({ jobs: [...this.owed.keys()] }, `${this.owed.size} charge(s) of jobs that could not be queued were not given back (Redis stayed unreachable)`);
    }
  }
}
