/**
 * Split command text into tokens, remembering where each came from so errors can quote the input verbatim.
 * Whitespace (any Unicode space, including the ideographic space U+3000) separates tokens. A token that
 * starts with a double quote — straight `"` or curly `“ ” „` — runs to the next double quote of any kind
 * and is kept as one piece; an opening quote that is never closed is an ordinary character (`a 12" record`).
 */

export interface Token {
  /** The token's content: the raw text, or for a quoted token the text between the quotes. */
  text: string;
  /** Start and end (exclusive) of the whole token in the input, quotes included. */
  start: number;
  end: number;
  /** Offset of `text` in the input (start + 1 for a quoted token). */
  textStart: number;
  quoted: boolean;
}

const OPEN_QUOTES = new Set(['"', '“', '”', '„']);
const CLOSE_QUOTE = /["“”„]/g;
const SPACE = /\s/;

export function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const ch = input[i]!;
    if (SPACE.test(ch)) {
      i++;
      continue;
    }
    if (OPEN_QUOTES.has(ch)) {
      CLOSE_QUOTE.lastIndex = i + 1;
      const close = CLOSE_QUOTE.exec(input);
      if (close) {
        tokens.push({ text: input.slice(i + 1, close.index), start: i, end: close.index + 1, textStart: i + 1, quoted: true });
        i = close.index + 1;
        continue;
      }
    }
    let j = i;
    while (j < input.length && !SPACE.test(input[j]!)) j++;
    tokens.push({ text: input.slice(i, j), start: i, end: j, textStart: i, quoted: false });
    i = j;
  }
  return tokens;
}
