/**
 * What PostgreSQL cannot store: a NUL in `text` (nor `\u0000` in `jsonb`) and, in `jsonb`, a lone UTF-16
 * surrogate. Such characters can arrive from the port (a Playground prompt, a gallery filter or id), and a
 * query or row carrying one fails as a whole. At the library's edge they become U+FFFD, as a browser shows
 * them: a value to look up then simply matches nothing (no stored id has one), a row is written as shown.
 */
import { LONE_SURROGATE } from '../infra/lone-surrogates.js';

const UNSTORABLE = new RegExp(`\\u0000|${LONE_SURROGATE.source}`, 'g');

export function storableText(s: string): string {
  return s.replace(UNSTORABLE, '\uFFFD');
}

/** Every string in a JSON-like value (keys too) made storable; other values as they are. */
export function storableValue<T>(v: T): T {
  if (typeof v === 'string') return storableText(v) as T;
  if (Array.isArray(v)) return v.map(storableValue) as T;
  if (v !== null && typeof v === 'object' && !(v instanceof Date)) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [storableText(k), storableValue(x)])) as T;
  }
  return v;
}
