/**
 * LRU cache of text-encoder outputs, bounded by bytes. Key = the prompt (the model is fixed per engine).
 * Regenerate, variations and scheduled templates re-use the same prompt and skip the text encoder.
 */

export interface TextFeatures {
  /** float16 bits, [1, tokens, hidden]. */
  data: Uint16Array;
  tokens: number;
  hidden: number;
}

export class TextFeatureCache {
  private readonly map = new Map<string, TextFeatures>();
  private bytes = 0;
  hits = 0;
  misses = 0;

  constructor(readonly maxBytes: number) {}

  get(prompt: string): TextFeatures | undefined {
    const hit = this.map.get(prompt);
    if (!hit) { this.misses++; return undefined; }
    this.hits++;
    this.map.delete(prompt);
    this.map.set(prompt, hit);
    return hit;
  }

  set(prompt: string, features: TextFeatures): void {
    const size = features.data.byteLength + prompt.length * 2;
    if (size > this.maxBytes) return;
    const old = this.map.get(prompt);
    if (old) { this.map.delete(prompt); this.bytes -= old.data.byteLength + prompt.length * 2; }
    this.map.set(prompt, features);
    this.bytes += size;
    for (const [key, value] of this.map) {
      if (this.bytes <= this.maxBytes) break;
      this.map.delete(key);
      this.bytes -= value.data.byteLength + key.length * 2;
    }
  }

  get size(): number { return this.map.size; }
  get usedBytes(): number { return this.bytes; }
}
