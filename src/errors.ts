/**
 * Typed errors with stable codes: one catalog of every code the product raises. `code` is what logs, metrics
 * and tests match on; `retryable` says whether trying the same thing again later can succeed (the delivery
 * queue and the status tracker retry those, never sooner than `retryAfterMs`); `userFacing` says whether the
 * code has its own wording for people (templates/messages: `failure.<CODE>` for why a job failed,
 * `errors.<CODE>` for a reply) — anything else is shown in plain general words with a reference id, and its
 * detail goes to the logs only.
 */

export interface ErrorSpec {
  /** Trying again later can succeed (platform throttling or outage, a worker that went away). */
  retryable: boolean;
  /** The code has its own text for people in templates/messages. */
  userFacing: boolean;
}

const spec = (retryable: boolean, userFacing: boolean): ErrorSpec => ({ retryable, userFacing });

export const ERROR_CATALOG = {
  // Configuration and start-up (the message names the variable or file and the fix).
  CONFIG_INVALID: spec(false, false),
  REDIS_SERVER_MISSING: spec(false, false),
  REDIS_START_FAILED: spec(false, false),
  REDIS_DIR_IN_USE: spec(false, false),
  REDIS_DIR_BUSY: spec(true, false),
  REDIS_SUPERVISOR_NOT_BUILT: spec(false, false),
  ENGINE_NOT_BUILT: spec(false, false),
  DATABASE_LOCKED: spec(false, false),
  DATABASE_UNAVAILABLE: spec(true, false),
  MESSAGE_MISSING: spec(false, false),
  MESSAGE_PARAM_MISSING: spec(false, false),
  // Infrastructure while running.
  REDIS_UNAVAILABLE: spec(true, true),
  // Generation (why a job failed: failure.<CODE>).
  INVALID_REQUEST: spec(false, true),
  PROMPT_TOO_LONG: spec(false, true),
  SAFETY_BLOCKED: spec(false, true),
  CANCELLED: spec(false, true),
  MODEL_INVALID: spec(false, true),
  EP_UNAVAILABLE: spec(false, true),
  ENGINE_DISPOSED: spec(true, true),
  ENGINE_CRASHED: spec(true, false),
  GENERATION_FAILED: spec(true, true),
  DELIVERY_FAILED: spec(false, true),
  // Chat platforms: adapters map every platform failure into these (see ChatAdapter).
  /** Throttled: try again no sooner than `retryAfterMs`. */
  RATE_LIMITED: spec(true, false),
  /** The platform is down or unreachable (5xx, network): try again later. */
  PLATFORM_UNAVAILABLE: spec(true, false),
  /** The bot may not post in this conversation until someone changes it (not in channel, archived …). */
  CANNOT_POST: spec(false, false),
  /** The message can no longer be edited (too old, edited too often): post a new one instead. */
  MESSAGE_NOT_EDITABLE: spec(false, false),
  /** Any other refusal (bad request, content refused, permissions): retrying will not help. */
  PLATFORM_REJECTED: spec(false, false),
  // Assets and the image library.
  ASSET_MISSING: spec(false, false),
  ASSET_KEY_INVALID: spec(false, false),
  IMAGE_NOT_FOUND: spec(false, true),
  LIBRARY_FORBIDDEN: spec(false, true),
  LEGAL_HOLD: spec(false, true),
  LIBRARY_BAD_CURSOR: spec(false, true),
  LIBRARY_UNAVAILABLE: spec(true, true),
  // Template presets.
  TEMPLATE_BAD_VALUE: spec(false, false),
  TEMPLATE_UNKNOWN_VARIABLE: spec(false, false),
  TEMPLATE_MISSING_VARIABLE: spec(false, false),
  // Model download (worker/download: each has its own exit code).
  DOWNLOAD_FAILED: spec(true, false),
  DOWNLOAD_UNREACHABLE: spec(true, false),
  DOWNLOAD_AUTH: spec(false, false),
  DOWNLOAD_NOT_FOUND: spec(false, false),
  DOWNLOAD_NO_SPACE: spec(false, false),
  DOWNLOAD_CHECKSUM: spec(true, false),
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CATALOG, code);
}

export interface ZimageErrorOptions {
  /** For RATE_LIMITED: the least time before trying again (ms). */
  retryAfterMs?: number;
  cause?: unknown;
}

export class ZimageError extends Error {
  readonly code: ErrorCode;
  readonly params: Readonly<Record<string, string | number>>;
  readonly retryAfterMs: number | undefined;

  constructor(code: ErrorCode, message: string, params: Record<string, string | number> = {}, o: ZimageErrorOptions = {}) {
    super(message, o.cause === undefined ? undefined : { cause: o.cause });
    this.name = 'ZimageError';
    this.code = code;
    this.params = params;
    this.retryAfterMs = o.retryAfterMs;
  }

  get retryable(): boolean { return ERROR_CATALOG[this.code].retryable; }
  get userFacing(): boolean { return ERROR_CATALOG[this.code].userFacing; }
}

export function isZimageError(err: unknown, code?: ErrorCode): err is ZimageError {
  return err instanceof ZimageError && (code === undefined || err.code === code);
}

/** The code of anything thrown: its own when it is a ZimageError, else `fallback`. */
export function codeOf(err: unknown, fallback: ErrorCode): ErrorCode {
  return err instanceof ZimageError ? err.code : fallback;
}

/** When a thrown error says to wait before trying again (a platform's Retry-After), in ms; 0 when it does not. */
export function retryAfterOf(err: unknown): number {
  const ms = err instanceof ZimageError ? err.retryAfterMs : undefined;
  return typeof ms === 'number' && Number.isFinite(ms) && ms > 0 ? ms : 0;
}

/** A failure no retry can change (a ZimageError whose code the catalog marks not retryable). */
export function isPermanent(err: unknown): err is ZimageError {
  return isZimageError(err) && !ERROR_CATALOG[err.code].retryable;
}

/** One line for operators (logs, the dead-letter list): a ZimageError with its code. */
export function describeError(err: unknown): string {
  if (isZimageError(err)) return `${err.code}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}
