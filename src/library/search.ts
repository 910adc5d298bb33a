/**
 * Prompt search: words of any script, matched as substrings of the prompt, case-insensitively, all of them
 * (`summer poster` finds "Summer sale POSTER"; `海报` finds "蓝色科技感手机海报" — Chinese has no spaces, so a
 * substring is the unit). Served by the trigram index on `prompt` (pg_trgm), which PostgreSQL uses for
 * ILIKE '%…%' patterns of three characters or more; shorter terms still match, through a scan.
 *
 * Any input is accepted: it is cut at MAX_SEARCH_CHARS characters and MAX_SEARCH_TERMS words, LIKE's wildcards
 * are taken literally, and control characters are dropped. Nothing here throws.
 */
import type { Expression, ExpressionBuilder, SqlBool } from 'kysely';
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

/** Every term appears in the prompt (no condition for no terms). */
export function searchWhere(terms: readonly string[]) {
  return (eb: ExpressionBuilder<LibrarySchema, 'images'>): Expression<SqlBool> =>
    eb.and(terms.map((t) => eb('images.prompt', 'ilike', likePattern(t))));
}
