import { createHash, timingSafeEqual } from 'node:crypto';

/** Compare a secret a client sent with the expected one in constant time (lengths may differ). */
export function sameSecret(given: string, expected: string): boolean {
  // Hashing first makes both sides the same length, so neither the comparison nor its length check leaks.
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b) && given.length === expected.length;
}

/** Whether an `Authorization: Bearer <token>` header carries `token`. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m !== null && sameSecret(m[1]!, token);
}
