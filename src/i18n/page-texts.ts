/** A page's texts in one language: the catalogue's `<section>.*` (e.g. `gallery.page`), English where a text is missing. */
import { catalogs } from './catalog.js';
import { DEFAULT_LOCALE, normalizeLocale } from './locale.js';

const cache = new Map<string, Record<string, string>>();

export function pageTexts(section: string, locale: string): Record<string, string> {
  const lang = normalizeLocale(locale);
  const prefix = `${section}.`;
  const cacheKey = `${prefix}${lang}`;
  let texts = cache.get(cacheKey);
  if (!texts) {
    texts = {};
    for (const source of [catalogs().get(DEFAULT_LOCALE), catalogs().get(lang)]) {
      for (const [key, text] of source ?? []) if (key.startsWith(prefix)) texts[key.slice(prefix.length)] = text;
    }
    cache.set(cacheKey, texts);
  }
  return texts;
}
