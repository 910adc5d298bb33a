/**
 * The recent-jobs window: every finished job (delivered, failed, cancelled, dead-lettered) is recorded in
 * one Redis sorted set shared by all bot replicas, so p95 wait, mean response time and failure rate mean
 * the same thing whichever replica answers `/status`. Kept to the last WINDOW_MS and MAX_ENTRIES jobs.
 */
import type { Redis } from 'ioredis';
import type { Keys } from '../jobs/keys.js';

export const RECENT_WINDOW_MS = 15 * 60_000;
const MAX_ENTRIES = 5000;

export type JobOutcome = 'delivered' | 'failed' | 'cancelled' | 'dead_lettered';

export interface FinishedJob {
  jobId: string;
  outcome: JobOutcome;
  /** Accepted → a worker started it (null when it never ran). */
  waitMs: number | null;
  /** Accepted → result (or failure) posted. */
  totalMs: number;
  at: number;
}

export interface RecentSummary {
  windowMinutes: number;
  /** Jobs that ended in the window (cancelled ones included). */
  jobs: number;
  failures: number;
  /** failures / (jobs − cancelled); null without any. */
  failureRate: number | null;
  p95WaitMs: number | null;
  meanWaitMs: number | null;
  /** Mean accepted → result posted, over delivered jobs. */
  avgResponseMs: number | null;
}

/** The q-quantile (0..1) of numbers, nearest-rank; null for none. */
export function quantile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1]!;
}

const mean = (xs: number[]): number | null => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

export function summarize(jobs: readonly FinishedJob[], windowMs = RECENT_WINDOW_MS): RecentSummary {
  const counted = jobs.filter((j) => j.outcome !== 'cancelled');
  const failures = counted.filter((j) => j.outcome !== 'delivered').length;
  const waits = jobs.flatMap((j) => (j.waitMs === null ? [] : [j.waitMs]));
  const delivered = jobs.filter((j) => j.outcome === 'delivered').map((j) => j.totalMs);
  const avg = mean(delivered);
  const meanWait = mean(waits);
  return {
    windowMinutes: Math.round(windowMs / 60_000),
    jobs: jobs.length,
    failures,
    failureRate: counted.length ? failures / counted.length : null,
    p95WaitMs: quantile(waits, 0.95),
    meanWaitMs: meanWait === null ? null : Math.round(meanWait),
    avgResponseMs: avg === null ? null : Math.round(avg),
  };
}

export class RecentJobs {
  constructor(private readonly redis: Redis, private readonly keys: Keys, private readonly windowMs = RECENT_WINDOW_MS) {}

  async record(job: FinishedJob): Promise<void> {
    const key = this.keys.recentJobs();
    // The job id makes the member unique; recording the same end twice changes nothing.
    const member = `${job.jobId}|${job.outcome}|${job.waitMs ?? ''}|${Math.round(job.totalMs)}`;
    await this.redis.multi()
      .zadd(key, job.at, member)
      .zremrangebyscore(key, '-inf', job.at - this.windowMs)
      .zremrangebyrank(key, 0, -(MAX_ENTRIES + 1))
      .pexpire(key, this.windowMs * 2)
      .exec();
  }

  async list(now = Date.now()): Promise<FinishedJob[]> {
    const raw = await this.redis.zrangebyscore(this.keys.recentJobs(), now - this.windowMs, '+inf', 'WITHSCORES');
    const out: FinishedJob[] = [];
    for (let i = 0; i < raw.length; i += 2) {
      const [jobId, outcome, wait, total] = raw[i]!.split('|');
      out.push({
        jobId: jobId!, outcome: outcome as JobOutcome, waitMs: wait ? Number(wait) : null, totalMs: Number(total), at: Number(raw[i + 1]),
      });
    }
    return out;
  }

  async summary(now = Date.now()): Promise<RecentSummary> {
    return summarize(await this.list(now), this.windowMs);
  }
}
