/**
 * Lone UTF-16 surrogates (a broken paste, a fuzzer): valid in a JavaScript string, refused by Redis's cjson and by
 * PostgreSQL's jsonb. Where such text is stored it becomes U+FFFD, as a browser shows it.
 */
export const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function withoutLoneSurrogates(s: string): string {
  return s.replace(LONE_SURROGATE, '\uFFFD');
}
