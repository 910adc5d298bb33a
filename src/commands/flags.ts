/**
 * The generate flags: how each is spelled, what value it takes, and how that value is checked.
 * A flag's value check returns either the settings to apply or an error code with its parameters.
 */
import { MAX_SEED } from './rules.js';
import type { CommandErrorCode, CommandRules, GenerateRequest } from './types.js';

export type FlagName = 'size' | 'seed' | 'steps' | 'count';

export type FlagResult =
  | { ok: true; set: Partial<GenerateRequest> }
  | { ok: false; code: CommandErrorCode; params: Record<string, string | number> };

export interface FlagSpec {
  name: FlagName;
  /** A valid example shown when the value is missing, e.g. `--seed 42`. */
  example: string;
  check(value: string, rules: CommandRules): FlagResult;
  /** Whether the next word still belongs to the value (`--size 512 x 512`): the value then spans both. */
  continues?(valueSoFar: string, next: string): boolean;
}

/** Fullwidth digits and letters (`５１２ｘ５１２`) become ASCII; surrounding quotes go. */
function normalizeValue(value: string): string {
  return value.normalize('NFKC').replace(/^["“”„]+|["“”„]+$/g, '').trim();
}

function wholeNumber(value: string): number | undefined {
  const v = normalizeValue(value);
  return /^\+?\d{1,16}$/.test(v) ? Number(v) : undefined;
}

/** The allowed size closest to `w`×`h`: each side rounded to the multiple and clamped to the range. */
export function nearestSize(w: number, h: number, rules: CommandRules): string {
  const { minSide, maxSide, sideMultiple: m } = rules.limits;
  const lo = Math.ceil(minSide / m) * m;
  const hi = Math.floor(maxSide / m) * m;
  const fit = (x: number): number => Math.min(hi, Math.max(lo, Math.round(x / m) * m));
  return `${fit(w)}x${fit(h)}`;
}

const size: FlagSpec = {
  name: 'size',
  example: '--size 768x1024',
  continues(valueSoFar, next) {
    const v = valueSoFar.normalize('NFKC');
    const n = next.normalize('NFKC');
    if (/^\d+$/.test(v)) return /^[x×*](\d+)?$/i.test(n);
    if (/^\d+\s*[x×*]$/i.test(v)) return /^\d+$/.test(n);
    return false;
  },
  check(value, rules): FlagResult {
    const m = /^(\d{1,9})\s*[x×*]\s*(\d{1,9})$/i.exec(normalizeValue(value));
    if (!m) return { ok: false, code: 'INVALID_SIZE', params: { example: '768x1024' } };
    const width = Number(m[1]);
    const height = Number(m[2]);
    const { minSide, maxSide, sideMultiple } = rules.limits;
    const fits = (x: number): boolean => x >= minSide && x <= maxSide && x % sideMultiple === 0;
    if (!fits(width) || !fits(height)) {
      return {
        ok: false,
        code: 'SIZE_OUT_OF_RANGE',
        params: { min: minSide, max: maxSide, multiple: sideMultiple, nearest: nearestSize(width, height, rules) },
      };
    }
    return { ok: true, set: { width, height } };
  },
};

const seed: FlagSpec = {
  name: 'seed',
  example: '--seed 42',
  check(value): FlagResult {
    const n = wholeNumber(value);
    if (n === undefined || n > MAX_SEED) return { ok: false, code: 'INVALID_SEED', params: { min: 0, max: MAX_SEED } };
    return { ok: true, set: { seed: n } };
  },
};

const steps: FlagSpec = {
  name: 'steps',
  example: '--steps 8',
  check(value, rules): FlagResult {
    const { minSteps: min, maxSteps: max } = rules.limits;
    const n = wholeNumber(value);
    if (n === undefined || n < min || n > max) return { ok: false, code: 'INVALID_STEPS', params: { min, max } };
    return { ok: true, set: { steps: n } };
  },
};

const count: FlagSpec = {
  name: 'count',
  example: '--count 2',
  check(value, rules): FlagResult {
    const max = rules.limits.maxCount;
    const n = wholeNumber(value);
    if (n === undefined || n < 1 || n > max) return { ok: false, code: 'INVALID_COUNT', params: { min: 1, max } };
    return { ok: true, set: { count: n } };
  },
};

export const FLAGS: ReadonlyMap<string, FlagSpec> = new Map([size, seed, steps, count].map((f) => [f.name, f]));

/** Every flag a user may type, in the order help lists them (used for suggestions and the known-flags hint). */
export const KNOWN_FLAG_NAMES: readonly string[] = [...FLAGS.keys(), 'help'];

/** Words people type for a flag under another name (`--width`, `--n` …) → the flag that does it. */
export const FLAG_SYNONYMS: ReadonlyMap<string, string> = new Map([
  ['width', 'size'], ['height', 'size'], ['w', 'size'], ['res', 'size'], ['resolution', 'size'],
  ['dimensions', 'size'], ['ar', 'size'], ['aspect', 'size'],
  ['n', 'count'], ['num', 'count'], ['number', 'count'], ['batch', 'count'], ['images', 'count'],
  ['iterations', 'steps'], ['step', 'steps'],
]);
