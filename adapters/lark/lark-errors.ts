/**
 * Reading the open platform's failures into the platform-neutral codes (src/chat/platform-errors.ts).
 * Errors arrive as a thrown AxiosError (non-2xx, or no answer at all), as a resolved body with a nonzero
 * `code`, or as the SDK's own Error when the tenant token could not be had; all three are read here.
 *
 * - throttling: codes 230020 (per chat), 11232 (per tenant), 99991400 (per app), or HTTP 429 → RATE_LIMITED,
 *   with the wait from `x-ogw-ratelimit-reset` / `Retry-After` when given;
 * - HTTP 5xx, no answer (connection refused or reset, DNS, timeout), an answer without the id asked for →
 *   PLATFORM_UNAVAILABLE;
 * - the bot may not post here: 230002 (not in the chat), 230013 (the person is outside the bot's
 *   availability), 230035 (no permission to speak in the chat) → CANNOT_POST;
 * - the message can no longer be edited: 230072 ("the message has reached the number of times it can be
 *   edited"), or a refusal that says so in words → MESSAGE_NOT_EDITABLE (the 14-day window of card patches
 *   is checked by the adapter before it calls, see lark-adapter.ts);
 * - anything else → PLATFORM_REJECTED, e.g. 230001 (invalid request), 230011 (the message was withdrawn:
 *   someone removed it, and it is not posted again), 230028 (content audit).
 */
import { DEFAULT_RETRY_AFTER_MS, type PlatformErrorCode } from '../../src/chat/platform-errors.js';
import { ZimageError } from '../../src/errors.js';

export const THROTTLE_CODES: ReadonlySet<number> = new Set([230020, 11232, 99991400]);
export const CANNOT_POST_CODES: ReadonlySet<number> = new Set([230002, 230013, 230035]);
export const NOT_EDITABLE_CODES: ReadonlySet<number> = new Set([230072]);
/** Undocumented wordings of "this message cannot be edited any more" (edit counts, edit windows). */
const NOT_EDITABLE_WORDS = /number of times it can be edited|can(?:not|'t| not) be (?:edited|updated) any ?more|edit(?:ing)? (?:window|time limit)/i;

export interface LarkFailure {
  code: PlatformErrorCode;
  detail: string;
  /** Lark's own error code, when the answer had one. */
  larkCode?: number;
  status?: number;
  retryAfterMs?: number;
}

/** A failed call, classified; `code` is one of the platform-neutral codes. */
export class LarkApiError extends ZimageError {
  constructor(readonly failure: LarkFailure, what: string) {
    const lark = failure.larkCode !== undefined ? ` (code ${failure.larkCode})` : failure.status !== undefined ? ` (HTTP ${failure.status})` : '';
    super(failure.code, `${what}: ${failure.detail}${lark}`, {
      ...(failure.larkCode !== undefined ? { larkCode: failure.larkCode } : {}),
      ...(failure.status !== undefined ? { status: failure.status } : {}),
    }, failure.code === 'RATE_LIMITED' ? { retryAfterMs: failure.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS } : {});
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
    if (headers[name] !== undefined && Number.isFinite(v) && v >= 0) return Math.min(Math.max(1, v) * 1000, 60_000);
  }
  return undefined;
}

function codeOf(larkCode: number | undefined, status: number | undefined, detail: string): PlatformErrorCode {
  if ((larkCode !== undefined && THROTTLE_CODES.has(larkCode)) || status === 429) return 'RATE_LIMITED';
  if (larkCode !== undefined && CANNOT_POST_CODES.has(larkCode)) return 'CANNOT_POST';
  if ((larkCode !== undefined && NOT_EDITABLE_CODES.has(larkCode)) || NOT_EDITABLE_WORDS.test(detail)) return 'MESSAGE_NOT_EDITABLE';
  if (status !== undefined && status >= 500) return 'PLATFORM_UNAVAILABLE';
  return 'PLATFORM_REJECTED';
}

function fromBody(body: BodyShape, status?: number, headers?: Record<string, unknown>): LarkFailure {
  const larkCode = typeof body.code === 'number' ? body.code : undefined;
  const detail = typeof body.msg === 'string' && body.msg ? body.msg : 'no reason given';
  const code = codeOf(larkCode, status, detail);
  const after = code === 'RATE_LIMITED' ? retryAfterMs(headers) : undefined;
  return {
    code, detail, ...(larkCode !== undefined ? { larkCode } : {}), ...(status !== undefined ? { status } : {}),
    ...(after !== undefined ? { retryAfterMs: after } : {}),
  };
}

/** The SDK's token failure: "failed to get tenant_access_token, code: 10014, msg: app secret invalid". */
const TOKEN_FAILURE = /^failed to get tenant_access_token, code: (\S+), msg: (.*)$/s;

/** Classify anything a Lark call threw. */
export function classify(err: unknown): LarkFailure {
  if (err instanceof LarkApiError) return err.failure;
  const e = err as AxiosLike | null;
  const res = e?.response;
  if (res && typeof res.status === 'number') {
    const body = typeof res.data === 'object' && res.data !== null ? (res.data as BodyShape) : { msg: typeof res.data === 'string' ? res.data.slice(0, 200) : undefined };
    return fromBody(body, res.status, res.headers);
  }
  const token = TOKEN_FAILURE.exec(e?.message ?? '');
  if (token) {
    const larkCode = Number(token[1]);
    // A numeric code is Lark's answer (bad credentials, throttling); "unknown" means no usable answer came.
    if (Number.isInteger(larkCode)) return { ...fromBody({ code: larkCode, msg: `tenant token: ${token[2]}` }) };
    return { code: 'PLATFORM_UNAVAILABLE', detail: `tenant token: ${token[2]}` };
  }
  // No response: connection refused/reset, DNS, timeout — the platform may be back in a moment.
  if (e?.isAxiosError || typeof e?.code === 'string') return { code: 'PLATFORM_UNAVAILABLE', detail: e?.message ?? String(err) };
  return { code: 'PLATFORM_REJECTED', detail: err instanceof Error ? err.message : String(err) };
}

/** Throw a LarkApiError when a resolved body carries a nonzero code (some throttles come back this way). */
export function checkBody<T extends BodyShape | null | undefined>(body: T, what: string): NonNullable<T> {
  if (!body || typeof body !== 'object') throw new LarkApiError({ code: 'PLATFORM_UNAVAILABLE', detail: 'empty response' }, what);
  if (typeof body.code === 'number' && body.code !== 0) throw new LarkApiError(fromBody(body), what);
  return body as NonNullable<T>;
}

/** Wrap anything thrown into a LarkApiError (keeping its classification). */
export function toLarkError(err: unknown, what: string): LarkApiError {
  return err instanceof LarkApiError ? err : new LarkApiError(classify(err), what);
}
