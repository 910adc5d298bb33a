/**
 * When a prompt surely fits the token limit without tokenizing it. For a byte-level BPE tokenizer (Qwen's:
 * an NFC normalizer, a regex split, then each UTF-8 byte as one symbol that merges only combine) every token
 * covers at least one byte, and a special token matched as text is one token for several bytes — so a text
 * has at most as many tokens as its normalized form has bytes. The bound is used only for text that NFC leaves
 * exactly as it is: characters that no canonical composition, decomposition or reordering changes (ASCII and
 * Latin-1, CJK ideographs and punctuation, kana, precomposed Hangul syllables, full-width forms). Anything else
 * is tokenized, as is everything when the tokenizer is of another kind.
 */

/**
 * Characters whose NFC form is themselves, alone or next to any other character of the set (same bytes).
 * Hangul syllables (U+AC00–U+D7A3) qualify: NFC composes only conjoining jamo (U+1100–U+11FF), which are not in
 * the set, so two syllables never merge. The ideographic tone marks (U+302A–U+302F) do not: they are combining
 * marks that NFC puts in canonical order (same bytes, another order), so text with them is tokenized.
 */
const STABLE = /^[\u0000-\u00ff\u3000-\u3029\u3030-\u303f\u3041-\u3096\u30a0-\u30ff\u4e00-\u9fff\uac00-\ud7a3\uff00-\uffef]*$/u;

interface TokenizerJson {
  normalizer?: { type?: string; normalizers?: Array<{ type?: string }> } | null;
  pre_tokenizer?: { type?: string; add_prefix_space?: boolean; pretokenizers?: Array<{ type?: string; add_prefix_space?: boolean }> } | null;
  model?: { type?: string; dropout?: number | null; byte_fallback?: boolean } | null;
}

/** Whether a `tokenizer.json` is byte-level BPE of the kind the bound holds for (else: always tokenize). */
export function byteBounded(json: unknown): boolean {
  const j = json as TokenizerJson;
  if (j?.model?.type !== 'BPE' || j.model.dropout) return false;
  const norms = j.normalizer == null ? [] : j.normalizer.type === 'Sequence' ? j.normalizer.normalizers ?? [] : [j.normalizer];
  if (!norms.every((n) => n.type === 'NFC')) return false;
  const pre = j.pre_tokenizer;
  const steps = pre == null ? [] : pre.type === 'Sequence' ? pre.pretokenizers ?? [] : [pre];
  // Splitting adds no bytes; ByteLevel maps each byte to one symbol (a prefix space would add one).
  if (!steps.every((s) => s.type === 'Split' || (s.type === 'ByteLevel' && s.add_prefix_space === false))) return false;
  return steps.some((s) => s.type === 'ByteLevel');
}

/** True when `templated` (the whole text the tokenizer sees) has at most `maxTokens` tokens for sure. */
export function surelyWithin(templated: string, maxTokens: number): boolean {
  return Buffer.byteLength(templated, 'utf8') <= maxTokens && STABLE.test(templated);
}
