/** User-facing texts in every supported language. See templates/messages/*.yaml. */
export { t, hasMessage, messageText, interpolate, type MessageParams } from './translate.js';
export { normalizeLocale, LOCALES, DEFAULT_LOCALE, type Locale } from './locale.js';
export { catalogs, placeholdersOf } from './catalog.js';
export { formatDuration, formatEta } from './duration.js';
export { pageTexts } from './page-texts.js';
