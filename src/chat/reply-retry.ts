/**
 * The core's one retry for posts nothing else retries: replies (help, errors, subcommand answers) and the
 * top-level message of a new thread. Adapters fail at once (see ChatAdapter); here a throttled or unavailable
 * platform gets exactly one more try, never sooner than its Retry-After. A wait longer than `maxWaitMs` is not
 * worth holding a reply for (the person has moved on; the platform is shedding load): the failure is logged
 * and thrown. Images are not retried here — the `deliver` queue does that with backoff and dead letters.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { retryAfterOf, type ZimageError } from '../errors.js';
import type { Logger } from '../infra/logger.js';
import { DEFAULT_RETRY_AFTER_MS, isTransientPlatformError } from './platform-errors.js';

export interface ReplyRetryOptions {
  log: Logger;
  /** The longest Retry-After waited for before the one retry (default 30 s). */
  maxWaitMs?: number;
  /** The wait before retrying after an outage (5xx, network), which gives no Retry-After (default 1 s). */
  outageWaitMs?: number;
  /** A platform answered a post with throttling (RATE_LIMITED): counted per platform. */
  onRateLimited?: (platform: string) => void;
}

export const REPLY_RETRY_MAX_WAIT_MS = 30_000;
const OUTAGE_WAIT_MS = 1000;

export class ReplyRetry {
  private readonly maxWaitMs: number;
  private readonly outageWaitMs: number;

  constructor(private readonly o: ReplyRetryOptions) {
    this.maxWaitMs = o.maxWaitMs ?? REPLY_RETRY_MAX_WAIT_MS;
    this.outageWaitMs = o.outageWaitMs ?? OUTAGE_WAIT_MS;
  }

  /** Run `post`; on a transient platform failure wait as asked and run it once more. */
  async run<T>(platform: string, what: string, post: () => Promise<T>): Promise<T> {
    try {
      return await post();
    } catch (err) {
      this.seen(platform, err);
      if (!isTransientPlatformError(err)) throw err;
      const waitMs = waitFor(err, this.outageWaitMs);
      if (waitMs > this.maxWaitMs) {
        this.o.log.warn({ err, platform, what, waitMs, maxWaitMs: this.maxWaitMs }, `${what}: the platform asks to wait longer than a reply may; not retrying`);
        throw err;
      }
      this.o.log.info({ platform, what, code: err.code, waitMs }, `${what} failed; retrying once`);
      await sleep(waitMs, undefined, { ref: false });
      try {
        return await post();
      } catch (again) {
        this.seen(platform, again);
        this.o.log.warn({ err: again, platform, what }, `${what} failed again; giving up`);
        throw again;
      }
    }
  }

  private seen(platform: string, err: unknown): void {
    if (isTransientPlatformError(err) && err.code === 'RATE_LIMITED') this.o.onRateLimited?.(platform);
  }
}

function waitFor(err: ZimageError, outageWaitMs: number): number {
  if (err.code === 'RATE_LIMITED') return retryAfterOf(err) || DEFAULT_RETRY_AFTER_MS;
  return Math.max(outageWaitMs, retryAfterOf(err));
}
