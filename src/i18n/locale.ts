/** The languages the bot speaks. Every user-facing text exists in each of them (templates/messages/<locale>.yaml). */
export const LOCALES = ['en', 'zh-CN'] as const;
export type Locale = (typeof LOCALES)[number];

export const DEFAULT_LOCALE: Locale = 'en';

/**
 * Map whatever a platform reports (`zh`, `zh-CN`, `zh_cn`, `zh-Hans-CN`, `en-US`, `ja_JP`, undefined …) to a
 * supported locale. Simplified Chinese tags become `zh-CN`; everything else — including Traditional Chinese
 * tags (`zh-TW`, `zh-HK`, `zh-Hant`), which have no catalogue of their own — falls back to English.
 */
export function normalizeLocale(input: string | null | undefined): Locale {
  if (typeof input !== 'string') return DEFAULT_LOCALE;
  const parts = input.trim().toLowerCase().split(/[-_]/);
  if (parts[0] !== 'zh') return DEFAULT_LOCALE;
  const rest = parts.slice(1);
  if (rest.includes('hant') || rest.some((p) => p === 'tw' || p === 'hk' || p === 'mo')) return DEFAULT_LOCALE;
  return 'zh-CN';
}
