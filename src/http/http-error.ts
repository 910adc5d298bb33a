/** An HTTP refusal a route throws (or sends): a status, a stable code and a message that says what to fix. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** More fields for the error object (e.g. `retryAfterS`). */
    readonly extra?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** The one error shape every route answers with: `{"error":{"code","message",…}}`. */
export function errorBody(code: string, message: string, extra?: Record<string, unknown>): { error: Record<string, unknown> } {
  return { error: { code, message, ...extra } };
}
