/** Stage 1: templated prompt → token ids → text encoder → float16 features, with the byte-bounded LRU cache. */
import { ZimageError } from '../../src/errors.js';
import type { PromptTokenizer } from '../../src/model/prompt-tokenizer.js';
import { ort } from './sessions.js';
import { timedRun, type StageStats } from './stage-stats.js';
import { TextFeatureCache, type TextFeatures } from './text-feature-cache.js';

export class TextStage {
  readonly cache: TextFeatureCache;

  constructor(
    private readonly encoder: ort.InferenceSession,
    private readonly tokenizer: PromptTokenizer,
    private readonly maxTokens: number,
    cacheBytes: number,
    private readonly stats: StageStats,
  ) {
    this.cache = new TextFeatureCache(cacheBytes);
  }

  /** Refuses prompts over the limit with the cut-off part quoted (PROMPT_TOO_LONG); never truncates. */
  async encode(prompt: string): Promise<TextFeatures> {
    const cached = this.cache.get(prompt);
    if (cached) return cached;
    let t0 = performance.now();
    const verdict = this.tokenizer.check(prompt, this.maxTokens);
    if (!verdict.ok) {
      throw new ZimageError('PROMPT_TOO_LONG',
        `prompt is ${verdict.tokens} tokens, the limit is ${verdict.maxTokens}; cut off: "${verdict.cutText}"`,
        { tokens: verdict.tokens, maxTokens: verdict.maxTokens, cutText: verdict.cutText });
    }
    const ids = this.tokenizer.encode(prompt);
    this.stats.record('tokenize', performance.now() - t0);
    t0 = performance.now();
    const out = await timedRun(this.stats, () => this.encoder.run({
      input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, (v) => BigInt(v)), [1, ids.length]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]),
    }));
    const e = out.encoder_hidden_states!;
    this.stats.record('encode', performance.now() - t0);
    const features: TextFeatures = { data: e.data as Uint16Array, tokens: ids.length, hidden: Number(e.dims[2]) };
    this.cache.set(prompt, features);
    return features;
  }

  cacheStats(): { hits: number; misses: number; entries: number; bytes: number } {
    return { hits: this.cache.hits, misses: this.cache.misses, entries: this.cache.size, bytes: this.cache.usedBytes };
  }
}
