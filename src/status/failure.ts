import type { StatusView } from '../chat/types.js';
import { messageText, t } from '../i18n/index.js';

/** Failure reasons travel as `CODE: detail` (BullMQ keeps only a string); known codes get a worded reason. */
export function encodeFailure(code: string, detail: string): string {
  return `${code}: ${detail}`;
}

export function decodeFailure(reason: string): { code: string; detail: string } {
  const m = /^([A-Z][A-Z0-9_]+): ?([\s\S]*)$/.exec(reason);
  return m ? { code: m[1]!, detail: m[2]! } : { code: 'GENERATION_FAILED', detail: reason };
}

/** The user-facing reason for a failed job: `failure.<CODE>` when the code has a text, else the generic one. */
export function failureText(code: string, detail: string, locale: string): string {
  const known = messageText(locale, `failure.${code}`) !== undefined;
  return t(locale, known ? `failure.${code}` : 'failure.GENERATION_FAILED', { detail });
}

export function failureView(jobId: string, reason: string, locale: string): StatusView {
  const { code, detail } = decodeFailure(reason);
  if (code === 'CANCELLED') return { phase: 'cancelled', jobId };
  return { phase: 'failed', jobId, reason: failureText(code, detail, locale) };
}
