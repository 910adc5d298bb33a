/** User-facing texts in every supported language. See templates/messages/*.yaml. */
export { t, hasMessage, interpolate, type MessageParams } from './translate.js';
export { normalizeLocale, LOCALES, DEFAULT_LOCALE, type Locale } from './locale.js';
export { formatDuration, formatEta } from './duration.js';
