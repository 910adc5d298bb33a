/**
 * The S3-DiT transformer graph of the v2 export (ZIMAGE_ONNX.md §1, diffusers ZImageTransformer2DModel), at any
 * size: 2×2 patchify → x_embedder; caption RMSNorm + cap_embedder; sinusoidal timestep (× t_scale 1000) → MLP →
 * adaLN input; noise-refiner blocks (image tokens, adaLN), context-refiner blocks (caption tokens, no adaLN),
 * [image, caption] concatenated through the main blocks; final LayerNorm (no affine, stash_type 1) · (1 + scale)
 * → 4-bit linear → image tokens → unpatchify. Blocks: RMSNorm (SimplifiedLayerNormalization), 4-bit q/k/v/out
 * (MatMulNBits), per-head q/k RMSNorm, `RotaryEmbedding` (interleaved) fed per-token cos/sin gathered from the
 * 3-axis tables (caption token i at (i+1, 0, 0), image token at (caption length + 1, row, col)),
 * `MultiHeadAttention`, SwiGLU. Everything float16.
 */
import { GraphBuilder, type GraphOptions } from './onnx-graph.js';
import { dimOf, FLOAT, FLOAT16, headRmsNorm, linear16, linear4, rmsNorm, silu, swiGlu, type Ctx } from './layers.js';
import type { WeightSource } from './weights.js';

export interface DitDims {
  dim: number;
  heads: number;
  ffn: number;
  capFeat: number;
  channels: number;
  /** Sinusoidal timestep features, timestep MLP width, adaLN input width. */
  tFreq: number;
  tMid: number;
  adaln: number;
  axesDims: [number, number, number];
  axesLens: [number, number, number];
  layers: number;
  noiseRefiners: number;
  contextRefiners: number;
  ropeTheta: number;
  eps: number;
  /** Std of the blocks' residual outputs (attention out, FFN down). */
  residualStd?: number;
}

/** Tongyi-MAI/Z-Image-Turbo's transformer config (ZIMAGE_ONNX.md §7). */
export const ZIMAGE_DIT: DitDims = {
  dim: 3840, heads: 30, ffn: 10240, capFeat: 2560, channels: 16, tFreq: 256, tMid: 1024, adaln: 256,
  axesDims: [32, 48, 48], axesLens: [1536, 512, 512], layers: 30, noiseRefiners: 2, contextRefiners: 2, ropeTheta: 256, eps: 1e-5,
};

const PATCH = 2;

interface Rope { cos: string; sin: string }

function ditBlock(c: Ctx, d: DitDims, p: string, x: string, rope: Rope, adaln?: string): string {
  const { g } = c;
  const D = d.dim;
  const hd = D / d.heads;
  let scaleMsa: string | undefined, gateMsa: string | undefined, scaleMlp: string | undefined, gateMlp: string | undefined;
  if (adaln) {
    const mod = g.op('Unsqueeze', [linear16(c, `${p}.adaLN_modulation`, adaln, d.adaln, 4 * D, 0.02), g.ints([1])]);
    const [s1, g1, s2, g2] = g.msN('Split', [mod], { axis: 2 }, 4, undefined, '');
    const one = g.half(1);
    scaleMsa = g.op('Add', [one, s1!]); gateMsa = g.op('Tanh', [g1!]);
    scaleMlp = g.op('Add', [one, s2!]); gateMlp = g.op('Tanh', [g2!]);
  }
  const modulate = (v: string, by?: string): string => (by ? g.op('Mul', [v, by]) : v);
  const rotary = (v: string): string => g.ms('RotaryEmbedding', [v, g.ints([0]), rope.cos, rope.sin], { interleaved: 1, num_heads: d.heads });
  const xn = modulate(rmsNorm(c, `${p}.attention_norm1`, x, D, d.eps), scaleMsa);
  const q = rotary(headRmsNorm(c, `${p}.attention.norm_q`, linear4(c, `${p}.attention.to_q`, xn, D, D), d.heads, hd, d.eps));
  const k = rotary(headRmsNorm(c, `${p}.attention.norm_k`, linear4(c, `${p}.attention.to_k`, xn, D, D), d.heads, hd, d.eps));
  const v = linear4(c, `${p}.attention.to_v`, xn, D, D);
  const attn = g.ms('MultiHeadAttention', [q, k, v], { num_heads: d.heads, scale: { float: 1 / Math.sqrt(hd) } });
  const out = linear4(c, `${p}.attention.to_out`, attn, D, D, d.residualStd ?? 1 / Math.sqrt(D));
  const x1 = g.op('Add', [x, modulate(rmsNorm(c, `${p}.attention_norm2`, out, D, d.eps), gateMsa)]);
  const ff = swiGlu(c, `${p}.feed_forward`, modulate(rmsNorm(c, `${p}.ffn_norm1`, x1, D, d.eps), scaleMlp), D, d.ffn, d.residualStd ?? 1 / Math.sqrt(d.ffn));
  return g.op('Add', [x1, modulate(rmsNorm(c, `${p}.ffn_norm2`, ff, D, d.eps), gateMlp)]);
}

/** Per-axis RoPE tables [len_k, d_k/2] (cos, sin), float16. */
function ropeTables(c: Ctx, d: DitDims): Array<[string, string]> {
  return d.axesDims.map((dk, axis) => {
    const len = d.axesLens[axis]!;
    const cos = new Float32Array(len * (dk / 2));
    const sin = new Float32Array(len * (dk / 2));
    for (let pos = 0; pos < len; pos++) {
      for (let i = 0; i < dk / 2; i++) {
        const a = pos / d.ropeTheta ** ((2 * i) / dk);
        cos[pos * (dk / 2) + i] = Math.cos(a);
        sin[pos * (dk / 2) + i] = Math.sin(a);
      }
    }
    return [c.g.f16(`rope.axis${axis}.cos`, [len, dk / 2], cos), c.g.f16(`rope.axis${axis}.sin`, [len, dk / 2], sin)];
  });
}

/** cos/sin rows for tokens at 3-axis positions (three int64 [S] vectors). */
function gatherRope(c: Ctx, tables: Array<[string, string]>, positions: [string, string, string]): Rope {
  const pick = (which: 0 | 1): string => c.g.op('Concat', tables.map((t, axis) => c.g.op('Gather', [t[which], positions[axis]!], { axis: 0 })), { axis: 1 });
  return { cos: pick(0), sin: pick(1) };
}

/**
 * The transformer's body: hidden_states [1,C,h,w], encoder_hidden_states [1,L,capFeat], timestep [1] (float16
 * graph inputs) → the prediction [1,C,h,w] float16. Returns the name of that value.
 */
export function ditCore(c: Ctx, d: DitDims, hidden: string, caption: string, timestep: string): string {
  const { g } = c;
  const C = d.channels;
  const D = d.dim;
  const two = g.ints([PATCH]);
  const shape = g.op('Shape', [hidden]);
  const hp = g.op('Div', [dimOf(c, shape, 2), two]);
  const wp = g.op('Div', [dimOf(c, shape, 3), two]);
  const tokens = g.op('Mul', [hp, wp]);

  // Patchify: [1,C,h,w] → [1, hp·wp, 2·2·C] (per token: patch row, patch column, channel).
  const grid = g.op('Reshape', [hidden, g.op('Concat', [g.ints([1, C]), hp, two, wp, two], { axis: 0 })]);
  const patches = g.op('Reshape', [g.op('Transpose', [grid], { perm: [0, 2, 4, 3, 5, 1] }), g.ints([1, -1, PATCH * PATCH * C])]);
  let x = linear16(c, 'x_embedder', patches, PATCH * PATCH * C, D);
  let cap = linear16(c, 'cap_embedder.1', rmsNorm(c, 'cap_embedder.0', caption, d.capFeat, d.eps), d.capFeat, D);

  // Timestep: t · 1000 → [cos, sin] features → MLP → adaLN input [1, adaln].
  const half = d.tFreq / 2;
  const freqs = Float32Array.from({ length: half }, (_, i) => Math.exp((-Math.log(10000) * i) / half));
  const args = g.op('Mul', [g.op('Unsqueeze', [g.op('Mul', [g.op('Cast', [timestep], { to: FLOAT }), g.f32('t_scale', [], [1000])]), g.ints([1])]),
    g.f32('t_embedder.freqs', [1, half], freqs)]);
  const tFeat = g.op('Cast', [g.op('Concat', [g.op('Cos', [args]), g.op('Sin', [args])], { axis: 1 })], { to: FLOAT16 });
  const adaln = linear16(c, 't_embedder.mlp.2', silu(c, linear16(c, 't_embedder.mlp.0', tFeat, d.tFreq, d.tMid)), d.tMid, d.adaln);

  // RoPE positions: caption token i at (i+1, 0, 0); image token (r, c) at (L+1, r, c).
  const tables = ropeTables(c, d);
  const capLen = dimOf(c, g.op('Shape', [caption]), 1);
  const one = g.ints([1]);
  const capP0 = g.op('Range', [g.ints([1], true), g.op('Squeeze', [g.op('Add', [capLen, one]), g.ints([0])]), g.ints([1], true)]);
  const capZero = g.op('Mul', [capP0, g.ints([0], true)]);
  const gridShape = g.op('Concat', [hp, wp], { axis: 0 });
  const flat = (v: string): string => g.op('Reshape', [g.op('Expand', [v, gridShape]), g.ints([-1])]);
  const range = (n: string): string => g.op('Range', [g.ints([0], true), g.op('Squeeze', [n, g.ints([0])]), g.ints([1], true)]);
  const rows = flat(g.op('Unsqueeze', [range(hp), g.ints([1])]));
  const cols = flat(g.op('Unsqueeze', [range(wp), g.ints([0])]));
  const imgP0 = g.op('Expand', [g.op('Add', [capLen, one]), tokens]);
  const imgRope = gatherRope(c, tables, [imgP0, rows, cols]);
  const capRope = gatherRope(c, tables, [capP0, capZero, capZero]);

  for (let i = 0; i < d.noiseRefiners; i++) x = ditBlock(c, d, `noise_refiner.${i}`, x, imgRope, adaln);
  for (let i = 0; i < d.contextRefiners; i++) cap = ditBlock(c, d, `context_refiner.${i}`, cap, capRope);
  let u = g.op('Concat', [x, cap], { axis: 1 });
  const uRope = { cos: g.op('Concat', [imgRope.cos, capRope.cos], { axis: 0 }), sin: g.op('Concat', [imgRope.sin, capRope.sin], { axis: 0 }) };
  for (let i = 0; i < d.layers; i++) u = ditBlock(c, d, `layers.${i}`, u, uRope, adaln);

  // Final layer: LayerNorm without affine · (1 + scale) → linear → the image tokens → unpatchify.
  const ln = g.op('LayerNormalization', [u, g.f16('final.norm.ones', [D], new Float32Array(D).fill(1))], { axis: -1, epsilon: { float: 1e-6 }, stash_type: 1 });
  const scale = g.op('Unsqueeze', [linear16(c, 'final.adaLN_modulation.1', silu(c, adaln), d.adaln, D, 0.02), g.ints([1])]);
  const outTokens = linear4(c, 'final.linear', g.op('Mul', [ln, g.op('Add', [g.half(1), scale])]), D, PATCH * PATCH * C);
  const image = g.op('Slice', [outTokens, g.ints([0]), tokens, g.ints([1])]);
  const unGrid = g.op('Reshape', [image, g.op('Concat', [one, hp, wp, two, two, g.ints([C])], { axis: 0 })]);
  return g.op('Reshape', [g.op('Transpose', [unGrid], { perm: [0, 5, 1, 3, 2, 4] }), shape]);
}

/** The full transformer graph: the v2 contract's inputs and `sample` output around `ditCore`. */
export function transformerGraph(d: DitDims, w: WeightSource, opts: GraphOptions = {}): Uint8Array {
  const g = new GraphBuilder('zimage_transformer', opts);
  const hidden = g.input('hidden_states', 'float16', [1, d.channels, 'height', 'width']);
  const caption = g.input('encoder_hidden_states', 'float16', [1, 'cap_seq_len', d.capFeat]);
  const timestep = g.input('timestep', 'float16', [1]);
  g.output('sample', 'float16', [1, d.channels, 'height', 'width']);
  g.op('Identity', [ditCore({ g, w }, d, hidden, caption, timestep)], {}, 'sample');
  return g.encode();
}
