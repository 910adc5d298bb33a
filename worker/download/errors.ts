/**
 * The downloader's failures: one ZimageError code each, one line of text, and the process exit code the
 * `model:download` CLI returns for it (documented in docs/ENGINE.md).
 */
import { ZimageError } from '../../src/errors.js';

export const DOWNLOAD_EXIT_CODES = {
  DOWNLOAD_FAILED: 1,
  DOWNLOAD_UNREACHABLE: 3,
  DOWNLOAD_AUTH: 4,
  DOWNLOAD_NOT_FOUND: 5,
  DOWNLOAD_NO_SPACE: 6,
  DOWNLOAD_CHECKSUM: 7,
} as const;

export type DownloadErrorCode = keyof typeof DOWNLOAD_EXIT_CODES;

export function downloadError(code: DownloadErrorCode, message: string, params: Record<string, string | number> = {}): ZimageError {
  return new ZimageError(code, message.replace(/\s*\n\s*/g, ' '), params);
}

export function exitCodeOf(err: unknown): number {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && code in DOWNLOAD_EXIT_CODES ? DOWNLOAD_EXIT_CODES[code as DownloadErrorCode] : 1;
}

/** A network-level failure (no HTTP status): DNS, refused, reset, TLS, timeout. */
export function networkReason(err: unknown): string | undefined {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if (err instanceof TypeError && /fetch failed/i.test(err.message)) return cause?.code ?? cause?.message ?? 'fetch failed';
  const code = (err as { code?: string }).code;
  if (code && /^(ECONN|ENOTFOUND|EAI_|ETIMEDOUT|EPIPE|UND_ERR|ENETUNREACH|EHOSTUNREACH)/.test(code)) return code;
  return undefined;
}
