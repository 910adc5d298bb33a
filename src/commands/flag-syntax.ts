/**
 * Recognising flags in a token: `--seed`, `--seed=7`, `--Seed` (names are case-insensitive). Chat clients
 * that "smarten" punctuation turn `--` into `—` or `–`; those spellings count as flags only when the name
 * is one we know, so a prompt like `sunset —dramatic` stays a prompt.
 */
import type { Token } from './tokenize.js';

export interface FlagToken {
  /** Lower-cased name without dashes, e.g. `seed`. */
  name: string;
  /** The flag as typed, e.g. `--Seed` (without `=value`). */
  raw: string;
  /** Value given inline after `=`, with its offset in the input. */
  inline?: { text: string; start: number };
}

const ASCII_FLAG = /^--([A-Za-z][A-Za-z0-9_-]*)(?:([=＝])([\s\S]*))?$/;
const SMART_FLAG = /^(?:—|–|——|－－)([A-Za-z][A-Za-z0-9_-]*)(?:([=＝])([\s\S]*))?$/;

/** `--` on its own: everything after it is prompt text. (A lone `—` is ordinary punctuation in a prompt.) */
export function isEndOfFlags(token: Token): boolean {
  return !token.quoted && token.text === '--';
}

export function readFlag(token: Token, known: readonly string[]): FlagToken | undefined {
  if (token.quoted) return undefined;
  let m = ASCII_FLAG.exec(token.text);
  if (!m) {
    m = SMART_FLAG.exec(token.text);
    if (!m || !known.includes(m[1]!.toLowerCase())) return undefined;
  }
  const name = m[1]!.toLowerCase();
  const equals = m[2];
  const raw = equals === undefined ? token.text : token.text.slice(0, token.text.length - m[3]!.length - 1);
  if (equals === undefined) return { name, raw };
  return { name, raw, inline: { text: m[3]!, start: token.start + raw.length + 1 } };
}
