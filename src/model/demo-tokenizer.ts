/**
 * A tiny byte-level BPE `tokenizer.json` in the Qwen2 layout: GPT-2 byte↔unicode alphabet (so text in any
 * language tokenizes, byte by byte at worst), the Qwen2 pre-tokenizer regex, a few hundred merges trained
 * deterministically on a built-in English corpus, and the Qwen special tokens at their real ids
 * (`<|endoftext|>` 151643, `<|im_start|>` 151644, `<|im_end|>` 151645, `<think>` 151667, `</think>` 151668).
 */

export const QWEN_SPECIAL_TOKENS: ReadonlyArray<readonly [string, number]> = [
  ['<|endoftext|>', 151643],
  ['<|im_start|>', 151644],
  ['<|im_end|>', 151645],
  ['<think>', 151667],
  ['</think>', 151668],
];

const QWEN2_SPLIT_REGEX =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

const CORPUS = `a photo of a cat sitting on the windowsill in the morning light, a portrait of a woman with red hair,
the mountains at sunset with orange and purple clouds over a quiet lake, an astronaut riding a horse on the moon,
a cozy cabin in the snowy forest at night with warm lights, a bowl of fresh fruit on a wooden table, oil painting,
watercolor illustration of a city street in the rain, cinematic lighting, highly detailed, photorealistic, 4k,
a ginger cat on a windowsill, photoreal, a dog playing in the garden with flowers and green grass under the blue sky,
the ocean waves crashing against the rocks, a dragon flying over the castle, a robot reading a book in the library,
neon lights in a futuristic city, a bright yellow sunflower field, the user asked the assistant to draw a picture`;

/** GPT-2's reversible byte → printable-unicode mapping, in vocabulary order. */
export function byteAlphabet(): string[] {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) { bs.push(b); cs.push(256 + n); n++; }
  }
  const byByte = new Array<string>(256);
  bs.forEach((b, i) => { byByte[b] = String.fromCodePoint(cs[i]!); });
  return bs.map((b) => byByte[b]!);
}

function byteMap(): string[] {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const out = new Array<string>(256);
  let n = 0;
  for (let b = 0; b < 256; b++) out[b] = bs.includes(b) ? String.fromCodePoint(b) : String.fromCodePoint(256 + n++);
  return out;
}

/** Trains `count` merges on the corpus, ties broken lexicographically (deterministic). */
function trainMerges(count: number): Array<[string, string]> {
  const map = byteMap();
  const words = new Map<string, number>();
  const re = new RegExp(QWEN2_SPLIT_REGEX.replace('(?i:', '(?:'), 'gu');
  for (const piece of CORPUS.match(re) ?? []) {
    const mapped = [...Buffer.from(piece, 'utf8')].map((b) => map[b]!).join('');
    words.set(mapped, (words.get(mapped) ?? 0) + 1);
  }
  let split = [...words].map(([w, f]) => ({ parts: [...w], f }));
  const merges: Array<[string, string]> = [];
  while (merges.length < count) {
    const pairs = new Map<string, number>();
    for (const { parts, f } of split) {
      for (let i = 0; i + 1 < parts.length; i++) {
        const k = parts[i] + '\u0000' + parts[i + 1];
        pairs.set(k, (pairs.get(k) ?? 0) + f);
      }
    }
    let best: string | undefined;
    let bestF = 1;
    for (const [k, f] of pairs) {
      if (f > bestF || (f === bestF && best !== undefined && k < best)) { best = k; bestF = f; }
    }
    if (!best) break;
    const [a, b] = best.split('\u0000') as [string, string];
    merges.push([a, b]);
    split = split.map(({ parts, f }) => {
      const next: string[] = [];
      for (let i = 0; i < parts.length; i++) {
        if (i + 1 < parts.length && parts[i] === a && parts[i + 1] === b) { next.push(a + b); i++; }
        else next.push(parts[i]!);
      }
      return { parts: next, f };
    });
  }
  return merges;
}

export interface DemoTokenizerFiles {
  tokenizerJson: object;
  tokenizerConfig: object;
  /** Highest ordinary (non-special) token id + 1. */
  baseVocabSize: number;
}

export function buildDemoTokenizer(mergeCount = 300): DemoTokenizerFiles {
  const vocab: Record<string, number> = {};
  byteAlphabet().forEach((ch, i) => { vocab[ch] = i; });
  const merges = trainMerges(mergeCount);
  let next = 256;
  for (const [a, b] of merges) if (vocab[a + b] === undefined) vocab[a + b] = next++;
  const addedTokens = QWEN_SPECIAL_TOKENS.map(([content, id]) => ({
    id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
  }));
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false };
  const tokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: { type: 'NFC' },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: QWEN2_SPLIT_REGEX }, behavior: 'Isolated', invert: false },
        byteLevel,
      ],
    },
    post_processor: byteLevel,
    decoder: byteLevel,
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '',
      fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges: merges.map(([a, b]) => `${a} ${b}`),
    },
  };
  const tokenizerConfig = {
    add_bos_token: false,
    add_prefix_space: false,
    bos_token: null,
    eos_token: '<|im_end|>',
    pad_token: '<|endoftext|>',
    unk_token: null,
    errors: 'replace',
    clean_up_tokenization_spaces: false,
    split_special_tokens: false,
    model_max_length: 131072,
    tokenizer_class: 'Qwen2Tokenizer',
  };
  return { tokenizerJson, tokenizerConfig, baseVocabSize: next };
}
