/** The pages' texts in one language: the catalogue's `gallery.page.*`, English where a text is missing. */
import { catalogs, DEFAULT_LOCALE, normalizeLocale } from '../i18n/index.js';

const PREFIX = 'gallery.page.';
const cache = new Map<string, Record<string, string>>();

export function pageTexts(locale: string): Record<string, string> {
  const lang = normalizeLocale(locale);
  let texts = cache.get(lang);
  if (!texts) {
    texts = {};
    for (const source of [catalogs().get(DEFAULT_LOCALE), catalogs().get(lang)]) {
      for (const [key, text] of source ?? []) if (key.startsWith(PREFIX)) texts[key.slice(PREFIX.length)] = text;
    }
    cache.set(lang, texts);
  }
  return texts;
}
