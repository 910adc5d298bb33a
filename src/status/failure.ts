import type { StatusView } from '../chat/types.js';
import { ERROR_CATALOG, type ErrorCode } from '../errors.js';
import { messageText, t } from '../i18n/index.js';
import type { Failure } from '../jobs/failure.js';

/**
 * The words people see for a failed job: `failure.<CODE>` where the code has its own text, else the general
 * one; always with the job's id as a reference an operator can look up (the detail is in the logs).
 */
export function failureText(code: ErrorCode, ref: string, locale: string): string {
  const own = ERROR_CATALOG[code].userFacing && messageText(locale, `failure.${code}`) !== undefined;
  return t(locale, 'failure.with_reference', { reason: t(locale, own ? `failure.${code}` : 'failure.GENERATION_FAILED'), ref });
}

/** The final status of a failed job. */
export function failureView(jobId: string, failure: Pick<Failure, 'code'>, locale: string): StatusView {
  if (failure.code === 'CANCELLED') return { phase: 'cancelled', jobId };
  return { phase: 'failed', jobId, reason: failureText(failure.code, jobId, locale) };
}
