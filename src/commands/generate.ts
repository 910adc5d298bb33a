/**
 * The generate grammar: `<prompt words> [--size WxH] [--seed N] [--steps N] [--count N]`, flags anywhere,
 * `--flag value` or `--flag=value`, a bare `--` ends flags, quoted text is prompt. The first problem, reading
 * left to right, is reported with the exact fragment of input that caused it.
 */
import { closest } from './suggest.js';
import { FLAG_SYNONYMS, FLAGS, KNOWN_FLAG_NAMES } from './flags.js';
import { isEndOfFlags, readFlag } from './flag-syntax.js';
import { tokenize, type Token } from './tokenize.js';
import type { CommandError, CommandErrorCode, CommandRules, GenerateRequest, ParsedCommand } from './types.js';

/** A piece of prompt text and where it sits in the input (`text` is verbatim from there). */
interface PromptPiece {
  text: string;
  start: number;
  /** Index of the token it came from: consecutive indices are adjacent prompt text in the input. */
  token: number;
}

/** How many characters of the input an error quotes at most when pointing into a long prompt. */
const EXCERPT_CHARS = 40;

/** Longest fragment an error quotes (a prefix of the offending part, so still verbatim input). */
const FRAGMENT_MAX_CHARS = 80;

function fail(code: CommandErrorCode, fragment: string, params: Record<string, string | number> = {}): ParsedCommand {
  const chars = Array.from(fragment);
  const error: CommandError = { code, fragment: chars.length > FRAGMENT_MAX_CHARS ? chars.slice(0, FRAGMENT_MAX_CHARS).join('') : fragment, params };
  return { kind: 'error', error };
}

function unknownFlag(raw: string, name: string): ParsedCommand {
  const suggestion = FLAG_SYNONYMS.get(name) ?? closest(name, KNOWN_FLAG_NAMES);
  const known = KNOWN_FLAG_NAMES.map((n) => `--${n}`).join(', ');
  return fail('UNKNOWN_FLAG', raw, suggestion ? { suggestion: `--${suggestion}`, known } : { known });
}

function piece(token: Token, index: number): PromptPiece | undefined {
  const lead = token.text.length - token.text.trimStart().length;
  const text = token.text.trim();
  return text ? { text, start: token.textStart + lead, token: index } : undefined;
}

/** `--help` anywhere before a bare `--` asks for help, whatever else the text says. */
function asksForHelp(tokens: readonly Token[]): boolean {
  for (const token of tokens) {
    if (isEndOfFlags(token)) return false;
    if (readFlag(token, KNOWN_FLAG_NAMES)?.name === 'help') return true;
  }
  return false;
}

/**
 * Points at where a prompt longer than `max` characters (code points) gets cut: the input from that point,
 * up to EXCERPT_CHARS characters, without running into the flags that follow.
 */
function tooLong(pieces: readonly PromptPiece[], input: string, length: number, max: number): ParsedCommand {
  let used = 0;
  for (const [i, p] of pieces.entries()) {
    const chars = Array.from(p.text);
    if (i > 0) used += 1; // the space that joins pieces
    if (used + chars.length <= max) {
      used += chars.length;
      continue;
    }
    const at = p.start + chars.slice(0, Math.max(0, max - used)).join('').length;
    let runEnd = i;
    while (pieces[runEnd + 1]?.token === pieces[runEnd]!.token + 1) runEnd++;
    const last = pieces[runEnd]!;
    const limit = last.start + last.text.length;
    const excerpt = Array.from(input.slice(at, limit)).slice(0, EXCERPT_CHARS).join('').trim();
    return fail('PROMPT_TOO_LONG', excerpt, { length, max });
  }
  return fail('PROMPT_TOO_LONG', input.trim(), { length, max });
}

export function parseGenerate(input: string, rules: CommandRules): ParsedCommand {
  const tokens = tokenize(input);
  if (asksForHelp(tokens)) return { kind: 'help' };
  const { defaults, limits } = rules;
  const request: GenerateRequest = { prompt: '', width: defaults.width, height: defaults.height, steps: defaults.steps, seed: undefined, count: 1 };
  const seen = new Set<string>();
  const pieces: PromptPiece[] = [];
  let flagsEnded = false;

  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    const flag = flagsEnded ? undefined : readFlag(token, KNOWN_FLAG_NAMES);
    if (!flag) {
      if (!flagsEnded && isEndOfFlags(token)) flagsEnded = true;
      else {
        const p = piece(token, i);
        if (p) pieces.push(p);
      }
      continue;
    }
    const spec = FLAGS.get(flag.name);
    if (!spec) return unknownFlag(flag.raw, flag.name);

    let value: { text: string; start: number; end: number };
    if (flag.inline !== undefined) {
      if (flag.inline.text.trim() === '') return fail('MISSING_VALUE', token.text, { flag: `--${spec.name}`, example: spec.example });
      value = { text: flag.inline.text, start: flag.inline.start, end: token.end };
    } else {
      const next = tokens[i + 1];
      if (!next || isEndOfFlags(next) || readFlag(next, KNOWN_FLAG_NAMES) || (!next.quoted && next.text.startsWith('--'))) {
        return fail('MISSING_VALUE', flag.raw, { flag: `--${spec.name}`, example: spec.example });
      }
      value = { text: next.text, start: next.textStart, end: next.end };
      i++;
      for (let more = tokens[i + 1]; more && !more.quoted && !next.quoted && spec.continues?.(value.text, more.text); more = tokens[i + 1]) {
        value = { text: input.slice(value.start, more.end), start: value.start, end: more.end };
        i++;
      }
    }
    if (value.text.trim() === '') return fail('MISSING_VALUE', input.slice(token.start, value.end), { flag: `--${spec.name}`, example: spec.example });
    if (seen.has(spec.name)) return fail('DUPLICATE_FLAG', input.slice(token.start, value.end), { flag: `--${spec.name}` });
    seen.add(spec.name);

    const result = spec.check(value.text, rules);
    if (!result.ok) return fail(result.code, value.text.trim(), result.params);
    Object.assign(request, result.set);
  }

  const prompt = pieces.map((p) => p.text).join(' ');
  if (prompt === '') return fail('EMPTY_PROMPT', input.trim(), {});
  const length = Array.from(prompt).length;
  if (length > limits.maxPromptChars) return tooLong(pieces, input, length, limits.maxPromptChars);
  request.prompt = prompt;
  return { kind: 'generate', params: request };
}
