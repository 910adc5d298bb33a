/**
 * Backoff of delivery retries: exponential from the job's `backoff.delay`, but never sooner than a
 * platform's Retry-After (a ZimageError RATE_LIMITED with `retryAfterMs`, thrown by adapters on HTTP 429).
 */
import type { BackoffOptions, JobsOptions } from 'bullmq';
import { retryAfterOf } from '../errors.js';

export const DELIVERY_BACKOFF = 'delivery';
const MAX_DELAY_MS = 15 * 60_000;

export function deliveryBackoff(attemptsMade: number, _type?: string, err?: Error, job?: { opts?: JobsOptions }): number {
  const backoff = job?.opts?.backoff as BackoffOptions | undefined;
  const base = typeof backoff === 'object' && backoff.delay ? backoff.delay : 1000;
  const exp = Math.min(MAX_DELAY_MS, base * 2 ** Math.max(0, attemptsMade - 1));
  return Math.max(exp, retryAfterOf(err));
}

/** Delivery job options for a configuration (DELIVERY_ATTEMPTS, DELIVERY_BACKOFF_MS). */
export function deliveryRetryOptions(attempts: number, delayMs: number): Pick<JobsOptions, 'attempts' | 'backoff'> {
  return { attempts, backoff: { type: DELIVERY_BACKOFF, delay: delayMs } };
}
