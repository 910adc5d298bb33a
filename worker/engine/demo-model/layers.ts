/**
 * Building blocks of the v2 export's graphs (ZIMAGE_ONNX.md §1), shared by the demo model and the full-size
 * replica: 4-bit linears (MatMulNBits), plain float16 linears, RMSNorm (SimplifiedLayerNormalization, and the
 * skip variant), and the reshapes every block needs. All maths in float16, as in the export.
 */
import { DTYPE, type GraphBuilder } from './onnx-graph.js';
import { BLOCK, type WeightSource } from './weights.js';

export const FLOAT = 1;
export const FLOAT16 = 10;
export const INT32 = 6;

/** Graph + weights being built, and a name prefix for the initializers. */
export interface Ctx {
  g: GraphBuilder;
  w: WeightSource;
}

/** y = x·W with W quantized to 4 bits (block 32, symmetric, accuracy_level 4), like every big MatMul of the export. */
export function linear4(c: Ctx, name: string, x: string, K: number, N: number, std = 1 / Math.sqrt(K)): string {
  const q = c.w.nbits(K, N, std);
  const b = c.g.raw(`${name}.qweight`, [N, K / BLOCK, BLOCK / 2], DTYPE.uint8, q.packed);
  const s = c.g.f16Bits(`${name}.scales`, [N * (K / BLOCK)], q.scales);
  return c.g.ms('MatMulNBits', [x, b, s], { K, N, bits: 4, block_size: BLOCK, accuracy_level: 4 });
}

/** Plain float16 linear (the export keeps timestep MLP, adaLN, x_embedder and cap_embedder unquantized). */
export function linear16(c: Ctx, name: string, x: string, K: number, N: number, std = 1 / Math.sqrt(K), bias = true): string {
  const y = c.g.op('MatMul', [x, c.g.f16Bits(`${name}.weight`, [K, N], c.w.dense(K * N, std))]);
  return bias ? c.g.op('Add', [y, c.g.f16Bits(`${name}.bias`, [N], c.w.dense(N, 0.02))]) : y;
}

function ones(c: Ctx, name: string, n: number): string {
  return c.g.f16(name, [n], new Float32Array(n).fill(1));
}

/** RMSNorm over the last axis (stash_type 1: float32 statistics). */
export function rmsNorm(c: Ctx, name: string, x: string, dim: number, eps: number): string {
  return c.g.op('SimplifiedLayerNormalization', [x, ones(c, `${name}.weight`, dim)], { axis: -1, epsilon: { float: eps }, stash_type: 1 });
}

/** Residual add + RMSNorm in one kernel: returns [normalised, residual sum]. */
export function skipRmsNorm(c: Ctx, name: string, x: string, skip: string, dim: number, eps: number): [string, string] {
  const [normed, , , sum] = c.g.msN('SkipSimplifiedLayerNormalization', [x, skip, ones(c, `${name}.weight`, dim)], { epsilon: { float: eps } }, 4,
    [`${name}.out`, '', '', `${name}.sum`]);
  return [normed!, sum!];
}

/** Per-head RMSNorm (Qwen3 / Z-Image q_norm, k_norm): [1, S, H·d] → [1, S, H, d] → norm → back. */
export function headRmsNorm(c: Ctx, name: string, x: string, heads: number, headDim: number, eps: number): string {
  const split = c.g.op('Reshape', [x, c.g.ints([0, 0, heads, headDim])]);
  return c.g.op('Reshape', [rmsNorm(c, name, split, headDim, eps), c.g.ints([0, 0, heads * headDim])]);
}

export function silu(c: Ctx, x: string): string {
  return c.g.op('Mul', [x, c.g.op('Sigmoid', [x])]);
}

/** SwiGLU feed-forward with 4-bit linears: w2(silu(w1·x) ⊙ w3·x). `outStd` sets the residual contribution. */
export function swiGlu(c: Ctx, name: string, x: string, dim: number, hidden: number, outStd = 1 / Math.sqrt(hidden)): string {
  const gate = linear4(c, `${name}.w1`, x, dim, hidden);
  const up = linear4(c, `${name}.w3`, x, dim, hidden);
  return linear4(c, `${name}.w2`, c.g.op('Mul', [silu(c, gate), up]), hidden, dim, outStd);
}

/** Element `index` of a shape (a 1-element int64 vector). */
export function dimOf(c: Ctx, shape: string, index: number): string {
  return c.g.op('Gather', [shape, c.g.ints([index])], { axis: 0 });
}
