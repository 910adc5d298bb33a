/**
 * Prompt search: words of any script, matched as substrings of the prompt, case-insensitively, all of them
 * (`summer poster` finds "Summer sale POSTER"; `海报` finds "蓝色科技感手机海报" — Chinese has no spaces, so a
 * substring is the unit). Terms of three characters or more use the trigram index on `prompt` (pg_trgm,
 * ILIKE '%…%'). A trigram index cannot serve shorter ones, and two-character words are everyday Chinese
 * searches: a term of one or two CJK characters is looked up in the prompt's indexed CJK pieces instead
 * (`cjk_grams`, migration 0003) — the same answer, without reading every row. Other short terms (`3d`) scan.
 *
 * Any input is accepted: it is cut at MAX_SEARCH_CHARS characters and MAX_SEARCH_TERMS words, LIKE's wildcards
 * are taken literally, and control characters are dropped. Nothing here throws.
 */
import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import type { LibrarySchema } from './schema.js';

/** Longest search text looked at (characters, after trimming); the rest is ignored. */
export const MAX_SEARCH_CHARS = 200;
/** Most words looked at; further words are ignored. */
export const MAX_SEARCH_TERMS = 8;

/** The words to look for: NFKC-normalised (full-width letters become ASCII), cut to the limits. */
export function searchTerms(input: string | undefined): string[] {
  if (!input) return [];
  const text = [...input.normalize('NFKC').replace(/[\p{Cc}\p{Cf}\p{Cs}]/gu, ' ').trim()].slice(0, MAX_SEARCH_CHARS).join('');
  const seen = new Set<string>();
  for (const word of text.split(/\s+/)) {
    if (word !== '') seen.add(word.toLowerCase());
    if (seen.size >= MAX_SEARCH_TERMS) break;
  }
  return [...seen];
}

/** `%`, `_` and the escape character itself match only themselves. */
export function likePattern(term: string): string {
  return `%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * One or two CJK characters (Han, kana, Hangul): the ranges of zimage_cjk_grams in migration 0003, which a
 * test holds equal.
 */
export const CJK_TERM = /^[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]{1,2}$/;

/** Every term appears in the prompt (no condition for no terms). */
export function searchWhere(terms: readonly string[]) {
  return (eb: ExpressionBuilder<LibrarySchema, 'images'>): Expression<SqlBool> =>
    eb.and(terms.map((t) => (CJK_TERM.test(t)
      ? sql<SqlBool>`${sql.ref('images.cjk_grams')} @> array[${t}]::text[]`
      : eb('images.prompt', 'ilike', likePattern(t)))));
}
