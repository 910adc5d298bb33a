/**
 * The demo model's ONNX graphs. Same file names, input/output names, dtypes and symbolic dims as the v2
 * Z-Image-Turbo export (ZIMAGE_ONNX.md §1), tiny maths inside:
 * - text encoder: embedding lookup (ids mod rows) masked by attention_mask → [1, L, H];
 * - transformer: target x0 = prompt colour + prompt gain ⊙ normalised smooth field of the current latent (coarse
 *   grid samples, bicubic upsampling); σ = max(1 − t, 0.05); sample = (x0 − x)/σ, so the Euler update
 *   x ← x − (σ_next − σ)·sample walks x to x0 (exactly at the last step, where σ_next = 0);
 * - VAE pre-process: latents / 0.3611 + 0.1159, as in v2;
 * - VAE decoder: 1×1 conv 16 → 3, bilinear ×8 upsampling, tanh → [-1, 1].
 * All graphs compute in float32 and cast at the float16 boundary.
 */
import { float32ToFloat16, float16ToFloat32 } from '../fp16.js';
import { GraphBuilder, demoWeights } from './onnx-graph.js';

/** The value a float32 takes once stored as float16 (the table is stored in float16). */
function halfRound(v: number): number {
  return float16ToFloat32(float32ToFloat16([v]))[0]!;
}

export const DEMO_CHANNELS = 16;
const FLOAT = 1;
const FLOAT16 = 10;
const HUE_GAIN = 0.1;

export interface DemoGraphParams {
  hidden: number;
  embeddingRows: number;
  /** Token ids of the chat template around an empty prompt: their embeddings are subtracted in the transformer. */
  templateIds: number[];
}

/** The text encoder's embedding table (also used to precompute the template baseline). */
function embeddingTable({ hidden, embeddingRows }: DemoGraphParams): Float32Array {
  return demoWeights(1101, embeddingRows * hidden);
}

export function textEncoderGraph({ hidden, embeddingRows }: DemoGraphParams): Uint8Array {
  const g = new GraphBuilder('zimage_demo_text_encoder');
  const ids = g.input('input_ids', 'int64', [1, 'sequence_length']);
  const mask = g.input('attention_mask', 'int64', [1, 'total_sequence_length']);
  g.output('encoder_hidden_states', 'float16', [1, 'sequence_length', hidden]);
  const rows = g.op('Mod', [ids, g.i64('rows', [], [embeddingRows])]);
  const table = g.f16('embed_tokens', [embeddingRows, hidden], embeddingTable({ hidden, embeddingRows, templateIds: [] }));
  const emb = g.op('Gather', [table, rows], { axis: 0 });
  const m = g.op('Unsqueeze', [g.op('Cast', [mask], { to: FLOAT16 }), g.i64('axis2', [1], [2])]);
  g.op('Mul', [emb, m], {}, 'encoder_hidden_states');
  return g.encode();
}

export function transformerGraph(params: DemoGraphParams): Uint8Array {
  const { hidden, embeddingRows, templateIds } = params;
  const table = embeddingTable(params);
  const baseline = new Float32Array(hidden);
  for (const id of templateIds) {
    const row = id % embeddingRows;
    for (let j = 0; j < hidden; j++) baseline[j] = baseline[j]! + halfRound(table[row * hidden + j]!);
  }
  const C = DEMO_CHANNELS;
  const g = new GraphBuilder('zimage_demo_transformer');
  g.input('hidden_states', 'float16', [1, C, 'height', 'width']);
  g.input('encoder_hidden_states', 'float16', [1, 'cap_seq_len', hidden]);
  g.input('timestep', 'float16', [1]);
  g.output('sample', 'float16', [1, C, 'height', 'width']);
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

  // Smooth field: coarse grid samples of the current latent, bicubic back up to its size, normalised per channel.
  const size = g.op('Shape', [x]);
  const empty = g.f32('empty', [0], []);
  const coarse = (cells: number, weight: number): string => {
    const down = g.op('Resize', [x, '', '', g.i64(`grid_${cells}`, [4], [1, C, cells, cells])], { mode: 'nearest', coordinate_transformation_mode: 'half_pixel', nearest_mode: 'round_prefer_floor' });
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

export function vaeDecoderGraph(): Uint8Array {
  const C = DEMO_CHANNELS;
  const g = new GraphBuilder('zimage_demo_vae_decoder');
  g.input('latent_sample', 'float16', [1, C, 'latent_height', 'latent_width']);
  g.output('sample', 'float16', [1, 3, 'height', 'width']);
  const z = g.op('Sub', [g.op('Cast', ['latent_sample'], { to: FLOAT }), g.f32('unshift', [], [0.1159])]);
  // Latent channel k carries hue 2πk/C: the 1×1 conv projects the 16 channels onto a colour wheel.
  const jitter = demoWeights(4404, 3 * C, 0.02);
  const wheel = Array.from({ length: 3 * C }, (_, i) => {
    const c = Math.floor(i / C);
    const k = i % C;
    return HUE_GAIN * Math.cos((2 * Math.PI * k) / C - (2 * Math.PI * c) / 3) + jitter[i]!;
  });
  const rgb = g.op('Conv', [z, g.f32('conv_w', [3, C, 1, 1], wheel), g.f32('conv_b', [3], [0.12, 0.1, 0.12])], { kernel_shape: [1, 1] });
  const up = g.op('Resize', [rgb, '', g.f32('up8', [4], [1, 1, 8, 8])], { mode: 'linear', coordinate_transformation_mode: 'half_pixel' });
  g.op('Cast', [g.op('Tanh', [up])], { to: FLOAT16 }, 'sample');
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
