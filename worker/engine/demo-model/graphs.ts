/**
 * The demo model's ONNX graphs: the v2 export's file names, input/output names, dtypes, symbolic dims *and
 * operator set* (ZIMAGE_ONNX.md §1), at tiny width, with weights chosen so the pictures are smooth abstract
 * colour fields that depend on prompt and seed:
 * - text encoder: the real Qwen3-style graph (text-encoder.ts) — int4 GatherBlockQuantized embeddings,
 *   GroupQueryAttention, (Skip)SimplifiedLayerNormalization, MatMulNBits — with small residual branches, so a
 *   token's features stay close to its embedding row;
 * - transformer: the real S3-DiT body (transformer.ts: patchify, MatMulNBits, RotaryEmbedding, MultiHeadAttention,
 *   LayerNormalization, unpatchify) whose prediction perturbs the current latent; target x0 = prompt colour +
 *   prompt gain ⊙ normalised smooth field of (latent + DiT prediction) (coarse grid samples, bicubic upsampling);
 *   σ = max(1 − t, 0.05); sample = (x0 − x)/σ, so the Euler update x ← x − (σ_next − σ)·sample walks x to x0
 *   (exactly at the last step, where σ_next = 0);
 * - VAE pre-process: latents / 0.3611 + 0.1159, as in v2;
 * - VAE decoder: conv_in projecting the 16 channels onto a colour wheel (+ texture channels), a mid block of
 *   group-normed ResNet and single-head attention branches (vae-decoder.ts), three nearest 2× Resize + Conv
 *   upsamplers (a binomial blur: together ≈ bilinear ×8), conv_out, tanh → [-1, 1].
 */
import { float16ToFloat32 } from '../fp16.js';
import { ditCore, type DitDims } from './transformer.js';
import { textEncoderGraph as qwenTextEncoder, type TextEncoderDims } from './text-encoder.js';
import { attentionBranch, conv, resnet, upsample2x } from './vae-decoder.js';
import { DemoWeights, quantizeInt4Table, BLOCK, type QuantizedMatrix } from './weights.js';
import { GraphBuilder, demoWeights } from './onnx-graph.js';
import { FLOAT, FLOAT16, type Ctx } from './layers.js';

export const DEMO_CHANNELS = 16;
const HUE_GAIN = 0.1;
/** Width of the VAE decoder's feature maps; channels 0–2 carry the colour, the rest texture. */
const VAE_WIDTH = 8;
const VAE_GROUPS = 4;
/** The mid-block attention runs on at most this grid (memory stays bounded at 2048² like the rest of the demo). */
const VAE_ATTENTION_GRID = 16;

export interface DemoGraphParams {
  hidden: number;
  embeddingRows: number;
  /** Token ids of the chat template around an empty prompt: their embeddings are subtracted in the transformer. */
  templateIds: number[];
}

export function demoTextDims({ hidden, embeddingRows }: DemoGraphParams): TextEncoderDims {
  return {
    vocab: embeddingRows, hidden, layers: 2, heads: 2, kvHeads: 1, headDim: 16, intermediate: 2 * hidden,
    maxPositions: 1024, ropeTheta: 1e6, eps: 1e-6, residualStd: 0.02, modVocab: true,
  };
}

export function demoDitDims(hidden: number): DitDims {
  return {
    dim: 64, heads: 2, ffn: 128, capFeat: hidden, channels: DEMO_CHANNELS, tFreq: 32, tMid: 64, adaln: 32,
    axesDims: [8, 12, 12], axesLens: [1024, 256, 256], layers: 1, noiseRefiners: 1, contextRefiners: 1, ropeTheta: 256, eps: 1e-5,
  };
}

/** The text encoder's int4 embedding table (also used to precompute the template baseline). */
function embeddingTable({ hidden, embeddingRows }: DemoGraphParams): QuantizedMatrix {
  return quantizeInt4Table(demoWeights(1101, embeddingRows * hidden), embeddingRows, hidden);
}

/** Row `row` of the int4 table as the kernel dequantizes it: q · scale. */
function dequantizedRow(t: QuantizedMatrix, cols: number, row: number): Float32Array {
  const scales = float16ToFloat32(t.scales.subarray(row * (cols / BLOCK), (row + 1) * (cols / BLOCK)));
  return Float32Array.from({ length: cols }, (_, j) => {
    const i = row * cols + j;
    const nibble = (t.packed[i >> 1]! >> ((i & 1) * 4)) & 0xf;
    return (nibble >= 8 ? nibble - 16 : nibble) * scales[j / BLOCK | 0]!;
  });
}

export function textEncoderGraph(params: DemoGraphParams): Uint8Array {
  return qwenTextEncoder(demoTextDims(params), new DemoWeights(1102), {}, embeddingTable(params));
}

export function transformerGraph(params: DemoGraphParams): Uint8Array {
  const { hidden, embeddingRows, templateIds } = params;
  const table = embeddingTable(params);
  const baseline = new Float32Array(hidden);
  for (const id of templateIds) {
    const row = dequantizedRow(table, hidden, id % embeddingRows);
    for (let j = 0; j < hidden; j++) baseline[j] = baseline[j]! + row[j]!;
  }
  const C = DEMO_CHANNELS;
  const g = new GraphBuilder('zimage_demo_transformer');
  g.input('hidden_states', 'float16', [1, C, 'height', 'width']);
  g.input('encoder_hidden_states', 'float16', [1, 'cap_seq_len', hidden]);
  g.input('timestep', 'float16', [1]);
  g.output('sample', 'float16', [1, C, 'height', 'width']);
  const dit = ditCore({ g, w: new DemoWeights(2101) }, demoDitDims(hidden), 'hidden_states', 'encoder_hidden_states', 'timestep');
  const x = g.op('Cast', ['hidden_states'], { to: FLOAT });
  const e = g.op('Cast', ['encoder_hidden_states'], { to: FLOAT });
  const t = g.op('Cast', ['timestep'], { to: FLOAT });

  // Prompt → per-channel colour offset and gain, from (Σ token features − template's Σ) / sqrt(prompt tokens).
  const sum = g.op('ReduceSum', [e, g.i64('axis1', [1], [1])], { keepdims: 0 });
  const length = g.op('Cast', [g.op('Gather', [g.op('Shape', [e]), g.i64('one_i', [], [1])], { axis: 0 })], { to: FLOAT });
  const promptTokens = g.op('Max', [g.op('Sub', [length, g.f32('template_tokens', [], [templateIds.length])]), g.f32('one_f', [], [1])]);
  const feat = g.op('Div', [g.op('Sub', [sum, g.f32('template_sum', [1, hidden], baseline)]), g.op('Sqrt', [promptTokens])]);
  const perChannel = g.i64('per_channel', [4], [1, C, 1, 1]);
  const colour = g.op('Reshape', [
    g.op('Mul', [g.op('Tanh', [g.op('MatMul', [feat, g.f32('w_colour', [hidden, C], demoWeights(2202, hidden * C, 0.5))])]), g.f32('colour_scale', [], [1.2])]),
    perChannel,
  ]);
  const gain = g.op('Reshape', [
    g.op('Add', [g.f32('one', [], [1]), g.op('Mul', [g.op('Tanh', [g.op('MatMul', [feat, g.f32('w_gain', [hidden, C], demoWeights(3303, hidden * C, 0.4))])]), g.f32('half', [], [0.6])])]),
    perChannel,
  ]);

  // Smooth field of the latent perturbed by the DiT: coarse grid samples, bicubic back up, normalised per channel.
  const source = g.op('Add', [x, g.op('Mul', [g.op('Cast', [dit], { to: FLOAT }), g.f32('dit_weight', [], [0.5])])]);
  const size = g.op('Shape', [x]);
  const empty = g.f32('empty', [0], []);
  const coarse = (cells: number, weight: number): string => {
    const down = g.op('Resize', [source, '', '', g.i64(`grid_${cells}`, [4], [1, C, cells, cells])], { mode: 'nearest', coordinate_transformation_mode: 'half_pixel', nearest_mode: 'round_prefer_floor' });
    const up = g.op('Resize', [down, '', empty, size], { mode: 'cubic', coordinate_transformation_mode: 'align_corners' });
    return g.op('Mul', [up, g.f32(`w_grid_${cells}`, [], [weight])]);
  };
  const field = g.op('Add', [coarse(3, 1.0), coarse(5, 0.5)]);
  const norm = g.op('InstanceNormalization', [field, g.f32('in_scale', [C], new Array(C).fill(1)), g.f32('in_bias', [C], new Array(C).fill(0))], { epsilon: { float: 1e-4 } });
  const x0 = g.op('Add', [colour, g.op('Mul', [gain, norm])]);

  const sigma = g.op('Max', [g.op('Sub', [g.f32('one_t', [], [1]), t]), g.f32('sigma_floor', [], [0.05])]);
  const velocity = g.op('Div', [g.op('Sub', [x0, x]), sigma]);
  g.op('Cast', [velocity], { to: FLOAT16 }, 'sample');
  return g.encode();
}

export function vaePreProcessGraph(): Uint8Array {
  const C = DEMO_CHANNELS;
  const g = new GraphBuilder('zimage_demo_vae_pre_process');
  g.input('latents', 'float16', [1, C, 'height', 'width']);
  g.output('scaled_latents', 'float16', [1, C, 'height', 'width']);
  const x = g.op('Cast', ['latents'], { to: FLOAT });
  const z = g.op('Add', [g.op('Div', [x, g.f32('scaling_factor', [], [0.3611])]), g.f32('shift_factor', [], [0.1159])]);
  g.op('Cast', [z], { to: FLOAT16 }, 'scaled_latents');
  return g.encode();
}

/** Binomial 3×3 blur per channel (edge-padded): after a nearest 2× Resize it interpolates like bilinear. */
function blur(c: Ctx, name: string, x: string, cin: number, cout: number): string {
  const taps = [1, 2, 1, 2, 4, 2, 1, 2, 1].map((v) => v / 16);
  const weights = new Float32Array(cout * cin * 9);
  for (let o = 0; o < cout; o++) weights.set(taps, (o * cin + o) * 9);
  const padded = c.g.op('Pad', [x, c.g.ints([0, 0, 1, 1, 0, 0, 1, 1])], { mode: 'edge' });
  return c.g.op('Conv', [padded, c.g.f16(`${name}.weight`, [cout, cin, 3, 3], weights), c.g.f16(`${name}.bias`, [cout], new Float32Array(cout))], { kernel_shape: [3, 3] });
}

export function vaeDecoderGraph(): Uint8Array {
  const C = DEMO_CHANNELS;
  const W = VAE_WIDTH;
  const g = new GraphBuilder('zimage_demo_vae_decoder');
  const c: Ctx = { g, w: new DemoWeights(4401) };
  g.input('latent_sample', 'float16', [1, C, 'latent_height', 'latent_width']);
  g.output('sample', 'float16', [1, 3, 'height', 'width']);
  // conv_in: latent channel k carries hue 2πk/C — the centre taps project the 16 channels onto a colour wheel
  // (bias undoing the 0.1159 shift); channels 3.. get small random 3×3 filters (texture for the mid block).
  const jitter = demoWeights(4404, 3 * C, 0.02);
  const texture = demoWeights(4405, (W - 3) * C * 9, 0.1 / Math.sqrt(9 * C));
  const weights = new Float32Array(W * C * 9);
  const bias = new Float32Array(W);
  const base = [0.12, 0.1, 0.12];
  for (let o = 0; o < 3; o++) {
    let sum = 0;
    for (let k = 0; k < C; k++) {
      const v = HUE_GAIN * Math.cos((2 * Math.PI * k) / C - (2 * Math.PI * o) / 3) + jitter[o * C + k]!;
      weights[(o * C + k) * 9 + 4] = v;
      sum += v;
    }
    bias[o] = base[o]! - 0.1159 * sum;
  }
  weights.set(texture, 3 * C * 9);
  let x = conv(c, 'conv_in', 'latent_sample', C, W, 3, { weights, bias });
  // Mid block at latent resolution: ResNet, attention (on a bounded grid), ResNet — small branches.
  x = resnet(c, 'mid_block.resnets.0', x, W, W, VAE_GROUPS, 0.05);
  const grid = g.op('Resize', [x, '', '', g.op('Concat', [g.ints([1, W]), g.op('Min', [g.op('Slice', [g.op('Shape', [x]), g.ints([2]), g.ints([4])]), g.ints([VAE_ATTENTION_GRID, VAE_ATTENTION_GRID])])], { axis: 0 })],
    { mode: 'linear', coordinate_transformation_mode: 'half_pixel' });
  const delta = attentionBranch(c, 'mid_block.attentions.0', grid, W, VAE_GROUPS, 0.05);
  x = g.op('Add', [x, g.op('Resize', [delta, '', '', g.op('Shape', [x])], { mode: 'linear', coordinate_transformation_mode: 'half_pixel' })]);
  x = resnet(c, 'mid_block.resnets.1', x, W, W, VAE_GROUPS, 0.05);
  // Three upsamplers: nearest 2× then a 3×3 conv (the blur) — ×8 overall, smooth.
  for (let i = 0; i < 3; i++) x = blur(c, `up_blocks.${i}.upsamplers.0.conv`, upsample2x(c, x), W, W);
  g.op('Cast', [g.op('Tanh', [g.op('Cast', [blur(c, 'conv_out', x, W, 3)], { to: FLOAT })])], { to: FLOAT16 }, 'sample');
  return g.encode();
}

/**
 * The v2 scheduler_step helper (ZIMAGE_ONNX.md §1/§3): one Euler step with the WebNN schedule computed from
 * step_info = [i, N]: s = linspace(1, σ_min*, N), σ = f(s), σ_next = 0 on the last step;
 * latents_out = latents − (σ_next − σ_i)·noise_pred. The pipeline steps in TypeScript; this graph exists so the
 * demo has the same files as the export (and to cross-check the TS schedule).
 */
export function schedulerStepGraph(): Uint8Array {
  const C = DEMO_CHANNELS;
  const g = new GraphBuilder('zimage_demo_scheduler_step');
  g.input('noise_pred', 'float16', [1, C, 'height', 'width']);
  g.input('latents', 'float16', [1, C, 'height', 'width']);
  g.input('step_info', 'float16', [2]);
  g.output('latents_out', 'float16', [1, C, 'height', 'width']);
  const info = g.op('Cast', ['step_info'], { to: FLOAT });
  const i = g.op('Gather', [info, g.i64('idx0', [], [0])], { axis: 0 });
  const n = g.op('Gather', [info, g.i64('idx1', [], [1])], { axis: 0 });
  const one = g.f32('one', [], [1]);
  const span = g.op('Max', [g.op('Sub', [n, one]), one]);
  const sMinMinusOne = g.f32('smin_minus_one', [], [(3 * 0.001) / (1 + 2 * 0.001) - 1]);
  const shift = (idx: string): string => {
    const s = g.op('Add', [one, g.op('Mul', [sMinMinusOne, g.op('Div', [idx, span])])]);
    return g.op('Div', [g.op('Mul', [g.f32(`three_${idx}`, [], [3]), s]), g.op('Add', [one, g.op('Mul', [g.f32(`two_${idx}`, [], [2]), s])])]);
  };
  const next = g.op('Add', [i, one]);
  const sigma = shift(i);
  const sigmaNext = g.op('Where', [g.op('Less', [next, n]), shift(next), g.f32('zero', [], [0])]);
  const dt = g.op('Sub', [sigmaNext, sigma]);
  const x = g.op('Cast', ['latents'], { to: FLOAT });
  const v = g.op('Cast', ['noise_pred'], { to: FLOAT });
  g.op('Cast', [g.op('Sub', [x, g.op('Mul', [dt, v])])], { to: FLOAT16 }, 'latents_out');
  return g.encode();
}

/** CLIP normalisation with the [-1,1] → [0,1] step folded in, as the real sc_prep (ZIMAGE_ONNX.md §1). */
const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073];
const CLIP_STD = [0.26862954, 0.26130258, 0.27577711];

export function scPrepGraph(): Uint8Array {
  const g = new GraphBuilder('zimage_demo_sc_prep');
  g.input('sample', 'float16', [1, 3, 'height', 'width']);
  g.output('clip_input', 'float16', [1, 3, 224, 224]);
  const x = g.op('Cast', ['sample'], { to: FLOAT });
  const resized = g.op('Resize', [x, '', '', g.i64('clip_size', [4], [1, 3, 224, 224])], { mode: 'linear', coordinate_transformation_mode: 'asymmetric' });
  const scale = g.f32('clip_scale', [1, 3, 1, 1], CLIP_STD.map((s) => 0.5 / s));
  const offset = g.f32('clip_offset', [1, 3, 1, 1], CLIP_MEAN.map((m, c) => (0.5 - m) / CLIP_STD[c]!));
  g.op('Cast', [g.op('Add', [g.op('Mul', [resized, scale]), offset])], { to: FLOAT16 }, 'clip_input');
  return g.encode();
}

/**
 * Demo safety checker with the real contract (clip_input → has_nsfw_concepts bool [1]). Abstract colour fields
 * are never flagged: the verdict is "max |clip_input| > threshold" with a threshold no image reaches.
 * Tests build an always-flagging variant with `threshold` below zero.
 */
export function safetyCheckerGraph(threshold = 1e4): Uint8Array {
  const g = new GraphBuilder('zimage_demo_safety_checker');
  g.input('clip_input', 'float16', [1, 3, 224, 224]);
  g.output('has_nsfw_concepts', 'bool', [1]);
  const peak = g.op('ReduceMax', [g.op('Abs', [g.op('Cast', ['clip_input'], { to: FLOAT })])], { keepdims: 0 });
  const flagged = g.op('Greater', [peak, g.f32('threshold', [], [threshold])]);
  g.op('Reshape', [flagged, g.i64('shape1', [1], [1])], {}, 'has_nsfw_concepts');
  return g.encode();
}
