/**
 * `t(locale, key, params)`: look a text up in the caller's language (falling back to English) and fill its
 * `{name}` placeholders. A key missing from every catalogue, or a placeholder without a parameter, is a
 * programming error and throws a ZimageError (`MESSAGE_MISSING`, `MESSAGE_PARAM_MISSING`) — the same in
 * tests and in production, so callers may rely on it (or ask hasMessage first).
 */
import { ZimageError } from '../errors.js';
import { catalogs, PLACEHOLDER } from './catalog.js';
import { DEFAULT_LOCALE, normalizeLocale } from './locale.js';

export type MessageParams = Readonly<Record<string, string | number>>;

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

/** Replace `{name}` placeholders with `params[name]`. Values are inserted as they are, never re-interpreted. */
export function interpolate(text: string, params: MessageParams = {}, key = '(text)'): string {
  return text.replace(PLACEHOLDER, (_whole, name: string) => {
    const value = params[name];
    if (value === undefined) throw new ZimageError('MESSAGE_PARAM_MISSING', `Message "${key}" needs parameter {${name}}`, { key, param: name });
    return String(value);
  });
}

/** The text for `key` in `locale` (any tag; see normalizeLocale), with placeholders filled from `params`. */
export function t(locale: string, key: string, params?: MessageParams): string {
  const text = lookup(locale, key);
  if (text === undefined) throw new ZimageError('MESSAGE_MISSING', `Missing message "${key}" (locale ${locale})`, { key, locale });
  return interpolate(text, params, key);
}
