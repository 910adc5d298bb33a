/**
 * The token limit's shortcut (src/model/byte-bound.ts): a prompt said to fit without tokenizing always does,
 * on the demo model's byte-level BPE tokenizer (the real model's layout), for random text of the characters
 * the shortcut takes — Latin, CJK, kana, Hangul syllables, full-width, special tokens typed as text; other text and other kinds
 * of tokenizer are always counted.
 */
import { Tokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';
import { byteBounded } from '../../src/model/byte-bound.js';
import { buildDemoTokenizer } from '../../src/model/demo-tokenizer.js';
import { applyPromptTemplate, demoPromptTokenizer, PromptTokenizer } from '../../src/model/prompt-tokenizer.js';
import { mulberry32 } from '../../worker/engine/noise.js';

const RANGES: Array<[number, number]> = [[0x20, 0x7e], [0x00, 0x1f], [0xa0, 0xff], [0x3000, 0x3029], [0x3030, 0x303f], [0x3041, 0x3096], [0x30a0, 0x30ff], [0x4e00, 0x9fff], [0xac00, 0xd7a3], [0xff00, 0xffef]];
const PIECES = ['<|im_start|>', '<|im_end|>', '<think>', ' ', '\n', 'a ginger cat', '橘猫', 'ネコ', '고양이'];

function randomText(next: () => number, length: number): string {
  let out = '';
  while (out.length < length) {
    if (next() < 0.08) { out += PIECES[Math.floor(next() * PIECES.length)]; continue; }
    const [lo, hi] = RANGES[Math.floor(next() * RANGES.length)]!;
    out += String.fromCodePoint(lo + Math.floor(next() * (hi - lo + 1)));
  }
  return out;
}

describe('the token limit without tokenizing', () => {
  const tok = demoPromptTokenizer();

  it('a prompt said to fit has at most that many tokens (3 000 random prompts of the characters it takes)', () => {
    const next = mulberry32(7);
    let shortcut = 0;
    for (let i = 0; i < 3000; i++) {
      const prompt = randomText(next, 1 + Math.floor(next() * 160));
      // The bound itself: never more tokens than the templated text has bytes.
      if (tok.surelyFits(prompt, Infinity)) {
        expect(prompt.normalize('NFC'), JSON.stringify(prompt)).toBe(prompt); // what the bound rests on
        expect(tok.encode(prompt).length, JSON.stringify(prompt)).toBeLessThanOrEqual(Buffer.byteLength(applyPromptTemplate(prompt)));
      }
      const max = 20 + Math.floor(next() * 500);
      if (!tok.surelyFits(prompt, max)) continue;
      shortcut++;
      expect(tok.encode(prompt).length, JSON.stringify(prompt)).toBeLessThanOrEqual(max);
    }
    // The property was put to the test (most of these prompts take the shortcut), not skipped.
    expect(shortcut).toBeGreaterThan(1500);
  });

  it('typical prompts take the shortcut; text it does not know, and long text, are counted', () => {
    expect(tok.surelyFits('a ginger cat on a windowsill, morning light, 35 mm', 512)).toBe(true);
    expect(tok.surelyFits('一只橘猫趴在窗台上，清晨的阳光，胶片质感', 512)).toBe(true);
    expect(tok.surelyFits('窓辺のネコ、朝の光', 512)).toBe(true);
    expect(tok.surelyFits('창가의 고양이', 512)).toBe(true); // precomposed Hangul syllables: NFC leaves them alone
    expect(tok.surelyFits('\u1100\u1161 cat', 512)).toBe(false); // conjoining jamo compose under NFC (ᄀ + ᅡ → 가)
    expect(tok.surelyFits('가\u11a8', 512)).toBe(false); // and a trailing jamo joins the syllable before it (가 + ᆨ → 각)
    expect(tok.surelyFits('cafe\u0301', 512)).toBe(false); // a combining accent
    expect(tok.surelyFits('\u302b\u302a', 512)).toBe(false); // ideographic tone marks, which NFC reorders
    expect(tok.surelyFits('🐱 on a windowsill', 512)).toBe(false);
    expect(tok.surelyFits('x'.repeat(600), 512)).toBe(false);
    // Just under the bound in bytes: it fits, and the count agrees.
    const prompt = 'a'.repeat(512 - Buffer.byteLength('<|im_start|>user\n<|im_end|>\n<|im_start|>assistant\n'));
    expect(tok.surelyFits(prompt, 512)).toBe(true);
    expect(tok.encode(prompt).length).toBeLessThanOrEqual(512);
    expect(tok.surelyFits(`${prompt}a`, 512)).toBe(false);
  });

  it('only a byte-level BPE tokenizer gets the shortcut', () => {
    const files = buildDemoTokenizer();
    const { tokenizerConfig } = files;
    const tokenizerJson = files.tokenizerJson as { model: Record<string, unknown> } & Record<string, unknown>;
    expect(byteBounded(tokenizerJson)).toBe(true);
    const metaspace = { ...tokenizerJson, pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true } };
    expect(byteBounded(metaspace)).toBe(false);
    expect(byteBounded({ ...tokenizerJson, normalizer: { type: 'NFKC' } })).toBe(false);
    expect(byteBounded({ ...tokenizerJson, model: { ...tokenizerJson.model, type: 'WordPiece' } })).toBe(false);
    expect(byteBounded({ ...tokenizerJson, model: { ...tokenizerJson.model, dropout: 0.1 } })).toBe(false);
    const prefixed = { ...tokenizerJson, pre_tokenizer: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true } };
    expect(byteBounded(prefixed)).toBe(false);
    const counted = new PromptTokenizer(new Tokenizer(tokenizerJson, tokenizerConfig), false);
    expect(counted.surelyFits('a cat', 512)).toBe(false);
  });
});
