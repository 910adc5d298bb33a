/**
 * The text encoder graph of the v2 export (Qwen3 decoder layers, ZIMAGE_ONNX.md §1), at any size:
 * int4 `GatherBlockQuantized` embeddings; per layer RMSNorm (`SimplifiedLayerNormalization`, then
 * `SkipSimplifiedLayerNormalization` for residual + norm), 4-bit q/k/v/o projections, per-head q/k RMSNorm,
 * `GroupQueryAttention` with rotary inside (cos/sin caches, half-split rotation) and seqlens_k / total length
 * derived from attention_mask, SwiGLU MLP with 4-bit linears. Output: the residual stream after the last layer.
 */
import { DTYPE, GraphBuilder, type GraphOptions } from './onnx-graph.js';
import { dimOf, headRmsNorm, INT32, linear4, rmsNorm, skipRmsNorm, swiGlu, type Ctx } from './layers.js';
import { BLOCK, type QuantizedMatrix, type WeightSource } from './weights.js';

export interface TextEncoderDims {
  vocab: number;
  hidden: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  intermediate: number;
  /** Rows of the rotary cos/sin caches (longest prompt). */
  maxPositions: number;
  ropeTheta: number;
  eps: number;
  /** Std of the residual branches' output projections (small in the demo: features stay near the embeddings). */
  residualStd?: number;
  /** Map ids onto the vocabulary with Mod (the demo's table is smaller than the Qwen id range). */
  modVocab?: boolean;
}

/** Qwen3-4B truncated to the 35 layers the export keeps. */
export const QWEN3_4B_35: TextEncoderDims = {
  vocab: 151936, hidden: 2560, layers: 35, heads: 32, kvHeads: 8, headDim: 128, intermediate: 9728,
  maxPositions: 40960, ropeTheta: 1e6, eps: 1e-6,
};

/** cos/sin caches [maxPositions, headDim/2] (float16), as GroupQueryAttention's do_rotary expects. */
function rotaryCaches(c: Ctx, d: TextEncoderDims): [string, string] {
  const half = d.headDim / 2;
  const cos = new Float32Array(d.maxPositions * half);
  const sin = new Float32Array(d.maxPositions * half);
  for (let p = 0; p < d.maxPositions; p++) {
    for (let i = 0; i < half; i++) {
      const a = p / d.ropeTheta ** ((2 * i) / d.headDim);
      cos[p * half + i] = Math.cos(a);
      sin[p * half + i] = Math.sin(a);
    }
  }
  return [c.g.f16('cos_cache', [d.maxPositions, half], cos), c.g.f16('sin_cache', [d.maxPositions, half], sin)];
}

/** `embedding`: a precomputed int4 table (the demo derives its template baseline from it); else drawn from `w`. */
export function textEncoderGraph(d: TextEncoderDims, w: WeightSource, opts: GraphOptions = {}, embedding?: QuantizedMatrix): Uint8Array {
  const g = new GraphBuilder('zimage_text_encoder', { opset: 21, ...opts });
  const c: Ctx = { g, w };
  const ids = g.input('input_ids', 'int64', [1, 'sequence_length']);
  const mask = g.input('attention_mask', 'int64', [1, 'total_sequence_length']);
  g.output('encoder_hidden_states', 'float16', [1, 'sequence_length', d.hidden]);

  const table = embedding ?? w.int4Table(d.vocab, d.hidden, 1);
  const data = g.raw('embed_tokens', [d.vocab, d.hidden], DTYPE.int4, table.packed);
  const scales = g.f16Bits('embed_tokens.scales', [d.vocab, d.hidden / BLOCK], table.scales);
  const rows = d.modVocab ? g.op('Mod', [ids, g.ints([d.vocab], true)]) : ids;
  let h = g.ms('GatherBlockQuantized', [data, rows, scales], { gather_axis: 0, quantize_axis: 1, block_size: BLOCK });

  // GroupQueryAttention's lengths from the mask: seqlens_k = Σmask − 1 (int32 [1]), total = mask width (int32 scalar).
  const seqlens = g.op('Cast', [g.op('Sub', [g.op('ReduceSum', [mask, g.ints([1])], { keepdims: 0 }), g.ints([1])])], { to: INT32 });
  const total = g.op('Cast', [g.op('Squeeze', [dimOf(c, g.op('Shape', [mask]), 1), g.ints([0])])], { to: INT32 });
  const [cos, sin] = rotaryCaches(c, d);

  const q = d.heads * d.headDim;
  const kv = d.kvHeads * d.headDim;
  let normed = rmsNorm(c, 'layers.0.input_layernorm', h, d.hidden, d.eps);
  for (let l = 0; l < d.layers; l++) {
    const p = `layers.${l}`;
    const query = headRmsNorm(c, `${p}.q_norm`, linear4(c, `${p}.q_proj`, normed, d.hidden, q), d.heads, d.headDim, d.eps);
    const key = headRmsNorm(c, `${p}.k_norm`, linear4(c, `${p}.k_proj`, normed, d.hidden, kv), d.kvHeads, d.headDim, d.eps);
    const value = linear4(c, `${p}.v_proj`, normed, d.hidden, kv);
    const [attn] = g.msN('GroupQueryAttention', [query, key, value, '', '', seqlens, total, cos, sin], {
      num_heads: d.heads, kv_num_heads: d.kvHeads, do_rotary: 1, rotary_interleaved: 0, scale: { float: 1 / Math.sqrt(d.headDim) },
    }, 3);
    const o = linear4(c, `${p}.o_proj`, attn!, q, d.hidden, d.residualStd ?? 1 / Math.sqrt(q));
    const [postNorm, afterAttn] = skipRmsNorm(c, `${p}.post_attention_layernorm`, o, h, d.hidden, d.eps);
    const mlp = swiGlu(c, `${p}.mlp`, postNorm, d.hidden, d.intermediate, d.residualStd ?? 1 / Math.sqrt(d.intermediate));
    if (l === d.layers - 1) {
      g.op('Add', [mlp, afterAttn], {}, 'encoder_hidden_states');
    } else {
      [normed, h] = skipRmsNorm(c, `layers.${l + 1}.input_layernorm`, mlp, afterAttn, d.hidden, d.eps);
    }
  }
  if (d.layers === 0) g.op('Identity', [h], {}, 'encoder_hidden_states');
  return g.encode();
}
