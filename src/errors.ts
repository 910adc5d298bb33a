/**
 * Typed errors with stable codes. `code` is what logs, metrics and tests match on; the user-facing
 * wording lives in templates/messages (see src/i18n) and is looked up by the same code.
 */
export class ZimageError extends Error {
  readonly code: string;
  readonly params: Readonly<Record<string, string | number>>;
  constructor(code: string, message: string, params: Record<string, string | number> = {}) {
    super(message);
    this.name = 'ZimageError';
    this.code = code;
    this.params = params;
  }
}

export function isZimageError(err: unknown, code?: string): err is ZimageError {
  return err instanceof ZimageError && (code === undefined || err.code === code);
}
