/**
 * Why a job failed, as it travels from the worker to the bots: a code from the error catalog and a detail
 * for operators. BullMQ keeps only a string (a job's `failedReason`), so a failure is stored there as JSON;
 * the detail is logged, never shown to people (they get the code's plain words and a reference id).
 */
import { isErrorCode, type ErrorCode } from '../errors.js';

export interface Failure {
  code: ErrorCode;
  /** For the logs: what the engine or the platform said. */
  detail: string;
}

const PREFIX = 'zimage-failure:';

export function encodeFailure(f: Failure): string {
  return `${PREFIX}${JSON.stringify({ code: f.code, detail: f.detail.slice(0, 2000) })}`;
}

/** A `failedReason` read back; anything this product did not write is a generic generation failure. */
export function decodeFailure(reason: string | undefined): Failure {
  if (reason?.startsWith(PREFIX)) {
    try {
      const v = JSON.parse(reason.slice(PREFIX.length)) as { code?: unknown; detail?: unknown };
      if (isErrorCode(v.code)) return { code: v.code, detail: typeof v.detail === 'string' ? v.detail : '' };
    } catch {
      // fall through: not ours after all
    }
  }
  return { code: 'GENERATION_FAILED', detail: reason ?? '' };
}
