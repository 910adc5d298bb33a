/**
 * `t(locale, key, params)`: look a text up in the caller's language (falling back to English) and fill its
 * `{name}` placeholders. A key or parameter that is missing everywhere is a programming error: it throws
 * under tests, and in production degrades to the key / the literal placeholder rather than crash a reply.
 */
import { catalogs, PLACEHOLDER } from './catalog.js';
import { DEFAULT_LOCALE, normalizeLocale } from './locale.js';

export type MessageParams = Readonly<Record<string, string | number>>;

function strict(): boolean {
  return process.env.VITEST !== undefined || process.env.NODE_ENV === 'test';
}

function lookup(locale: string, key: string): string | undefined {
  const all = catalogs();
  return all.get(normalizeLocale(locale))?.get(key) ?? all.get(DEFAULT_LOCALE)?.get(key);
}

/** Whether a text exists for `key` (in the locale or in the English fallback). */
export function hasMessage(locale: string, key: string): boolean {
  return lookup(locale, key) !== undefined;
}

/** The raw text for `key` (placeholders unfilled), or undefined when there is none. */
export function messageText(locale: string, key: string): string | undefined {
  return lookup(locale, key);
}

/** Replace `{name}` placeholders with `params[name]`. */
export function interpolate(text: string, params: MessageParams = {}, key = '(text)'): string {
  return text.replace(PLACEHOLDER, (whole, name: string) => {
    const value = params[name];
    if (value !== undefined) return String(value);
    if (strict()) throw new Error(`Message "${key}" needs parameter {${name}}`);
    return whole;
  });
}

/** The text for `key` in `locale` (any tag; see normalizeLocale), with placeholders filled from `params`. */
export function t(locale: string, key: string, params?: MessageParams): string {
  const text = lookup(locale, key);
  if (text === undefined) {
    if (strict()) throw new Error(`Missing message "${key}" (locale ${locale})`);
    return key;
  }
  return interpolate(text, params, key);
}
