/**
 * Prompt tokenizer for Z-Image-Turbo: the exact chat template of the reference pipeline
 * (ZIMAGE_ONNX.md §2) tokenized with the model's own `tokenizer/tokenizer.json` through @huggingface/tokenizers.
 * Used by the bot (to refuse over-long prompts before queueing, quoting the cut-off part) and by the engine.
 * Imports no onnxruntime.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { ZimageError } from '../errors.js';
import { byteBounded, surelyWithin } from './byte-bound.js';
import { buildDemoTokenizer } from './demo-tokenizer.js';

export const PROMPT_PREFIX = '<|im_start|>user\n';
export const PROMPT_SUFFIX = '<|im_end|>\n<|im_start|>assistant\n';
export const DEFAULT_MAX_TOKENS = 512;

/** The string the text encoder sees for a user prompt. */
export function applyPromptTemplate(prompt: string): string {
  return PROMPT_PREFIX + prompt + PROMPT_SUFFIX;
}

export type PromptCheck =
  | { ok: true; tokens: number }
  | { ok: false; tokens: number; maxTokens: number; keptText: string; cutText: string };

export class PromptTokenizer {
  /** `byteBounded`: the tokenizer is byte-level BPE, so a short prompt can be known to fit without tokenizing (byte-bound.ts). */
  constructor(private readonly tokenizer: Tokenizer, private readonly byteBounded = false) {}

  /** True when the prompt fits `maxTokens` for sure without tokenizing it; false means "count to know". */
  surelyFits(prompt: string, maxTokens: number): boolean {
    return this.byteBounded && surelyWithin(applyPromptTemplate(prompt), maxTokens);
  }

  /** Token ids of the templated prompt (no extra special tokens: Qwen adds no BOS). */
  encode(prompt: string): number[] {
    return this.tokenizer.encode(applyPromptTemplate(prompt), { add_special_tokens: false }).ids;
  }

  /** Token id of a literal token (e.g. `<|im_start|>`), if the vocabulary has it. */
  tokenId(token: string): number | undefined {
    return this.tokenizer.token_to_id(token);
  }

  decode(ids: number[]): string {
    return this.tokenizer.decode(ids, { skip_special_tokens: false });
  }

  /**
   * Counts the templated tokens. When over `maxTokens`, splits the user's prompt at the longest prefix whose
   * templated encoding still fits (binary search over prefix length; never inside a surrogate pair).
   */
  check(prompt: string, maxTokens: number): PromptCheck {
    const tokens = this.encode(prompt).length;
    if (tokens <= maxTokens) return { ok: true, tokens };
    let lo = 0; // fits (or nothing fits)
    let hi = prompt.length; // does not fit
    while (hi - lo > 1) {
      const mid = safeBoundary(prompt, (lo + hi) >>> 1, lo);
      if (mid <= lo) { hi = lo + 1; break; }
      if (this.encode(prompt.slice(0, mid)).length <= maxTokens) lo = mid;
      else hi = mid;
    }
    const cut = safeBoundary(prompt, lo, 0);
    return { ok: false, tokens, maxTokens, keptText: prompt.slice(0, cut), cutText: prompt.slice(cut) };
  }
}

/** Moves an index back by one if it would split a surrogate pair (never below `floor`). */
function safeBoundary(text: string, index: number, floor: number): number {
  if (index <= floor || index >= text.length) return index;
  const prev = text.charCodeAt(index - 1);
  const next = text.charCodeAt(index);
  const splitsPair = prev >= 0xd800 && prev <= 0xdbff && next >= 0xdc00 && next <= 0xdfff;
  return splitsPair ? index - 1 : index;
}

const cache = new Map<string, Promise<PromptTokenizer>>();

/** Loads `<modelDir>/tokenizer/tokenizer.json` (+ tokenizer_config.json when present); cached per directory. */
export function loadPromptTokenizer(modelDir: string): Promise<PromptTokenizer> {
  const dir = resolve(modelDir, 'tokenizer');
  let pending = cache.get(dir);
  if (!pending) {
    pending = readTokenizer(dir);
    cache.set(dir, pending);
    pending.catch(() => cache.delete(dir));
  }
  return pending;
}

async function readTokenizer(dir: string): Promise<PromptTokenizer> {
  const jsonPath = join(dir, 'tokenizer.json');
  let json: unknown;
  try {
    json = JSON.parse(await readFile(jsonPath, 'utf8'));
  } catch (err) {
    throw new ZimageError('MODEL_INVALID', `cannot read tokenizer ${jsonPath}: ${(err as Error).message}`, { path: jsonPath });
  }
  let config: unknown = {};
  try {
    config = JSON.parse(await readFile(join(dir, 'tokenizer_config.json'), 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new ZimageError('MODEL_INVALID', `cannot read ${join(dir, 'tokenizer_config.json')}: ${(err as Error).message}`);
    }
  }
  try {
    return new PromptTokenizer(new Tokenizer(json as object, config as object), byteBounded(json));
  } catch (err) {
    throw new ZimageError('MODEL_INVALID', `invalid tokenizer ${jsonPath}: ${(err as Error).message}`, { path: jsonPath });
  }
}

let demo: PromptTokenizer | undefined;

/**
 * The demo model's tokenizer, made in memory from the same recipe the worker writes into the demo model's
 * files (src/model/demo-tokenizer.ts): the bot needs no model directory (and no model builder) to count tokens.
 */
export function demoPromptTokenizer(): PromptTokenizer {
  if (!demo) {
    const files = buildDemoTokenizer();
    demo = new PromptTokenizer(new Tokenizer(files.tokenizerJson, files.tokenizerConfig), byteBounded(files.tokenizerJson));
  }
  return demo;
}
