import { describe, expect, it } from 'vitest';
import { checkGraph, readDims, type PortMetadata } from '../../worker/engine/contract.js';
import { TextFeatureCache } from '../../worker/engine/text-feature-cache.js';

const t = (name: string, type: string, shape: Array<number | string>): PortMetadata => ({ name, isTensor: true, type, shape });

const v2 = {
  textEncoder: {
    inputs: [t('input_ids', 'int64', [1, 'sequence_length']), t('attention_mask', 'int64', [1, 'total_sequence_length'])],
    outputs: [t('encoder_hidden_states', 'float16', [1, 'sequence_length', 2560])],
  },
  transformer: {
    inputs: [t('hidden_states', 'float16', [1, 16, 'height', 'width']), t('encoder_hidden_states', 'float16', [1, 'cap_seq_len', 2560]), t('timestep', 'float16', [1])],
    outputs: [t('sample', 'float16', [1, 16, 'height', 'width'])],
  },
  vaeDecoder: {
    inputs: [t('latent_sample', 'float16', [1, 16, 'latent_height', 'latent_width'])],
    outputs: [t('sample', 'float16', [1, 3, 'height', 'width'])],
  },
};

describe('v2 contract check', () => {
  it('accepts the v2 signatures and reads the sizes', () => {
    for (const [key, m] of Object.entries(v2)) expect(checkGraph(key as keyof typeof v2, key, m.inputs, m.outputs)).toEqual([]);
    expect(readDims(v2)).toEqual({ dims: { hidden: 2560, channels: 16 }, problems: [] });
  });

  it('names v1 graphs as such', () => {
    const p = checkGraph('transformer', 'onnx/transformer_model_q4f16.onnx',
      [t('hidden_states', 'float32', ['batch_size', 16, 'num_frames', 'height', 'width'])], [t('unified_results', 'float32', [16, 'num_frames', 'height', 'width'])]);
    expect(p).toHaveLength(1);
    expect(p[0]).toContain('this is the v1 export');
    const te = checkGraph('textEncoder', 'te', v2.textEncoder.inputs, [t('encoder_hidden_state', 'float32', ['batch_size', 'sequence_length', 2560])]);
    expect(te[0]).toContain('v1 export');
  });

  it('reports wrong dtypes, ranks, fixed dims and missing ports', () => {
    const p = checkGraph('transformer', 'tr',
      [t('hidden_states', 'float32', [1, 16, 'h', 'w']), t('encoder_hidden_states', 'float16', [1, 'l']), t('timestep', 'float16', [2])], []);
    expect(p).toEqual(expect.arrayContaining([
      'tr: input hidden_states is float32, expected float16',
      'tr: input encoder_hidden_states has rank 2 [1,l], expected rank 3',
      'tr: input timestep dim 0 is 2, expected 1',
      'tr: missing output sample float16 rank 4',
    ]));
  });

  it('cross-checks sizes between graphs', () => {
    const bad = {
      ...v2,
      transformer: { ...v2.transformer, inputs: [v2.transformer.inputs[0]!, t('encoder_hidden_states', 'float16', [1, 'l', 32]), v2.transformer.inputs[2]!] },
      vaeDecoder: { ...v2.vaeDecoder, inputs: [t('latent_sample', 'float16', [1, 4, 'h', 'w'])] },
    };
    const r = readDims(bad);
    expect(r.dims).toBeUndefined();
    expect(r.problems).toEqual([
      'text encoder emits 2560-wide features but the transformer expects 32',
      'vae decoder latent_sample has 4 channels, transformer hidden_states has 16',
    ]);
  });

  it('takes the channel count from whichever latent port declares it', () => {
    const symbolic = { ...v2, transformer: { ...v2.transformer, inputs: [t('hidden_states', 'float16', [1, 'c', 'h', 'w']), ...v2.transformer.inputs.slice(1)] } };
    expect(readDims(symbolic).dims).toEqual({ hidden: 2560, channels: 16 });
  });
});

describe('text feature cache', () => {
  const f = (n: number) => ({ data: new Uint16Array(n), tokens: n, hidden: 1 });

  it('evicts the least recently used entries beyond the byte budget', () => {
    const c = new TextFeatureCache(100);
    c.set('a', f(20)); // 40 B + key
    c.set('b', f(20));
    expect(c.get('a')).toBeDefined(); // a is now the most recent
    c.set('c', f(20));
    expect(c.get('b')).toBeUndefined();
    expect(c.get('a')).toBeDefined();
    expect(c.get('c')).toBeDefined();
    expect(c.usedBytes).toBeLessThanOrEqual(100);
    expect(c.hits).toBe(3);
    expect(c.misses).toBe(1);
  });

  it('skips entries larger than the budget and disables itself at 0', () => {
    const c = new TextFeatureCache(10);
    c.set('big', f(100));
    expect(c.size).toBe(0);
    const off = new TextFeatureCache(0);
    off.set('x', f(1));
    expect(off.get('x')).toBeUndefined();
  });
});
