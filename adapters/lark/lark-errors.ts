/**
 * Reading the open platform's failures. Throttling (codes 230020 per chat, 11232 per tenant, 99991400 per
 * app, or HTTP 429 from the gateway) and outages (5xx, network) are worth retrying; anything else is a
 * refusal to explain in plain words. Errors arrive either as a thrown AxiosError (non-2xx) or as a
 * resolved body with a nonzero `code`, so both shapes are read here.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ZimageError } from '../../src/errors.js';
import type { Logger } from '../../src/infra/logger.js';

export const THROTTLE_CODES: ReadonlySet<number> = new Set([230020, 11232, 99991400]);

export type LarkFailure =
  | { kind: 'throttled'; retryAfterMs?: number; code?: number; status?: number; detail: string }
  | { kind: 'transient'; code?: number; status?: number; detail: string }
  | { kind: 'rejected'; code?: number; status?: number; detail: string };

/** A failed call, classified: RATE_LIMITED, PLATFORM_UNAVAILABLE or PLATFORM_REJECTED (src/errors.ts). */
export class LarkApiError extends ZimageError {
  constructor(readonly failure: LarkFailure, what: string) {
    const code = failure.kind === 'throttled' ? 'RATE_LIMITED' : failure.kind === 'transient' ? 'PLATFORM_UNAVAILABLE' : 'PLATFORM_REJECTED';
    const lark = failure.code !== undefined ? ` (code ${failure.code})` : failure.status !== undefined ? ` (HTTP ${failure.status})` : '';
    super(code, `${what}: ${failure.detail}${lark}`, {
      ...(failure.code !== undefined ? { larkCode: failure.code } : {}),
      ...(failure.status !== undefined ? { status: failure.status } : {}),
    }, failure.kind === 'throttled' ? { retryAfterMs: failure.retryAfterMs ?? 1000 } : {});
    this.name = 'LarkApiError';
  }
}

interface BodyShape { code?: unknown; msg?: unknown }
interface AxiosLike {
  isAxiosError?: boolean;
  message?: string;
  code?: string;
  response?: { status?: number; data?: unknown; headers?: Record<string, unknown> };
}

function retryAfterMs(headers: Record<string, unknown> | undefined): number | undefined {
  if (!headers) return undefined;
  for (const name of ['x-ogw-ratelimit-reset', 'retry-after']) {
    const v = Number(headers[name]);
    if (Number.isFinite(v) && v >= 0) return Math.min(v * 1000, 60_000);
  }
  return undefined;
}

function fromBody(body: BodyShape, status?: number, headers?: Record<string, unknown>): LarkFailure {
  const code = typeof body.code === 'number' ? body.code : undefined;
  const detail = typeof body.msg === 'string' && body.msg ? body.msg : 'no reason given';
  const where = { ...(code !== undefined ? { code } : {}), ...(status !== undefined ? { status } : {}) };
  if ((code !== undefined && THROTTLE_CODES.has(code)) || status === 429) {
    const after = retryAfterMs(headers);
    return { kind: 'throttled', detail, ...where, ...(after !== undefined ? { retryAfterMs: after } : {}) };
  }
  if (status !== undefined && status >= 500) return { kind: 'transient', detail, ...where };
  return { kind: 'rejected', detail, ...where };
}

/** Classify anything a Lark call threw. */
export function classify(err: unknown): LarkFailure {
  if (err instanceof LarkApiError) return err.failure;
  const e = err as AxiosLike | null;
  const res = e?.response;
  if (res && typeof res.status === 'number') {
    const body = typeof res.data === 'object' && res.data !== null ? (res.data as BodyShape) : { msg: typeof res.data === 'string' ? res.data.slice(0, 200) : undefined };
    return fromBody(body, res.status, res.headers);
  }
  // No response: connection refused/reset, DNS, timeout — the platform may be back in a moment.
  return { kind: 'transient', detail: e?.message ?? String(err) };
}

/** Throw a LarkApiError when a resolved body carries a nonzero code (some throttles come back this way). */
export function checkBody<T extends BodyShape | null | undefined>(body: T, what: string): NonNullable<T> {
  if (!body || typeof body !== 'object') throw new LarkApiError({ kind: 'transient', detail: 'empty response' }, what);
  if (typeof body.code === 'number' && body.code !== 0) throw new LarkApiError(fromBody(body), what);
  return body as NonNullable<T>;
}

/** Wrap anything thrown into a LarkApiError (keeping its classification). */
export function toLarkError(err: unknown, what: string): LarkApiError {
  return err instanceof LarkApiError ? err : new LarkApiError(classify(err), what);
}

export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 500, maxDelayMs: 8000 };

/** Run `fn`, retrying throttled and transient failures with exponential backoff (Retry-After wins when given). */
export async function withRetries<T>(what: string, fn: () => Promise<T>, policy: RetryPolicy, log: Logger): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const e = toLarkError(err, what);
      if (e.failure.kind === 'rejected' || attempt >= policy.attempts) throw e;
      const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      const wait = e.failure.kind === 'throttled' && e.failure.retryAfterMs !== undefined ? Math.min(policy.maxDelayMs, e.failure.retryAfterMs) : backoff;
      log.warn({ what, attempt, waitMs: wait, kind: e.failure.kind, larkCode: e.failure.code, status: e.failure.status }, 'Lark call failed; retrying');
      await sleep(wait);
    }
  }
}
