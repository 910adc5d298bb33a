/**
 * The five platform-neutral codes a chat adapter reports a failed platform call in (src/errors.ts has their
 * specs). Adapters map every platform answer into one of them; the core reads only these codes and
 * `retryAfterMs`, never a platform's own error shapes.
 */
import { ZimageError, type ErrorCode } from '../errors.js';

export const PLATFORM_ERROR_CODES = [
  'RATE_LIMITED', 'PLATFORM_UNAVAILABLE', 'CANNOT_POST', 'MESSAGE_NOT_EDITABLE', 'PLATFORM_REJECTED',
] as const satisfies readonly ErrorCode[];

export type PlatformErrorCode = (typeof PLATFORM_ERROR_CODES)[number];

/** The wait assumed when a platform throttles without saying for how long (Slack's posting tier is about 1/s). */
export const DEFAULT_RETRY_AFTER_MS = 1000;

const CODES: ReadonlySet<string> = new Set(PLATFORM_ERROR_CODES);

export function isPlatformError(err: unknown): err is ZimageError & { code: PlatformErrorCode } {
  return err instanceof ZimageError && CODES.has(err.code);
}

/** A platform failure that trying again later can cure: throttling (RATE_LIMITED) or an outage (PLATFORM_UNAVAILABLE). */
export function isTransientPlatformError(err: unknown): err is ZimageError & { code: 'RATE_LIMITED' | 'PLATFORM_UNAVAILABLE' } {
  return isPlatformError(err) && err.retryable;
}
