/**
 * The VAE decoder graph of the v2 export (FLUX.1 AutoencoderKL decoder, daijh exporter default, ZIMAGE_ONNX.md
 * §1/§4), at any width: Conv, group norm as Reshape → InstanceNormalization → Reshape → Mul/Add, SiLU as
 * Sigmoid·Mul, nearest 2× Resize (asymmetric, floor) + Conv for upsampling, and one single-head mid-block
 * attention done with MatMul/Softmax. float16 weights and I/O, no external data.
 */
import { GraphBuilder } from './onnx-graph.js';
import { silu, type Ctx } from './layers.js';
import type { WeightSource } from './weights.js';

export interface VaeDims {
  latentChannels: number;
  /** Encoder-order channel widths; the decoder walks them in reverse. */
  blockOut: number[];
  layersPerBlock: number;
  groups: number;
}

export const FLUX_VAE: VaeDims = { latentChannels: 16, blockOut: [128, 256, 512, 512], layersPerBlock: 2, groups: 32 };

/** Conv with given (or random) float16 weights [cout, cin, k, k] and bias; 'same' padding. */
export function conv(c: Ctx, name: string, x: string, cin: number, cout: number, k: number,
  init: { std: number } | { weights: ArrayLike<number>; bias?: ArrayLike<number> }): string {
  const wName = 'weights' in init
    ? c.g.f16(`${name}.weight`, [cout, cin, k, k], init.weights)
    : c.g.f16Bits(`${name}.weight`, [cout, cin, k, k], c.w.dense(cout * cin * k * k, init.std));
  const bias = 'weights' in init && init.bias ? c.g.f16(`${name}.bias`, [cout], init.bias) : c.g.f16(`${name}.bias`, [cout], new Float32Array(cout));
  const p = (k - 1) / 2;
  return c.g.op('Conv', [x, wName, bias], { kernel_shape: [k, k], pads: [p, p, p, p] });
}

/** GroupNorm(groups, ch) the way the exporter writes it: InstanceNormalization over [1, groups, ch/groups·H·W]. */
export function groupNorm(c: Ctx, name: string, x: string, ch: number, groups: number, eps = 1e-6): string {
  const { g } = c;
  const grouped = g.op('Reshape', [x, g.ints([0, groups, -1])]);
  const norm = g.op('InstanceNormalization', [grouped, g.f16(`${name}.in_scale`, [groups], new Float32Array(groups).fill(1)),
    g.f16(`${name}.in_bias`, [groups], new Float32Array(groups))], { epsilon: { float: eps } });
  const back = g.op('Reshape', [norm, g.op('Shape', [x])]);
  return g.op('Add', [g.op('Mul', [back, g.f16(`${name}.weight`, [ch, 1, 1], new Float32Array(ch).fill(1))]), g.f16(`${name}.bias`, [ch, 1, 1], new Float32Array(ch))]);
}

/** ResNet block: x (or its 1×1 projection) + conv2(silu(gn2(conv1(silu(gn1(x)))))); `outStd` scales the branch. */
export function resnet(c: Ctx, name: string, x: string, cin: number, cout: number, groups: number, outStd: number): string {
  const h1 = conv(c, `${name}.conv1`, silu(c, groupNorm(c, `${name}.norm1`, x, cin, groups)), cin, cout, 3, { std: 1 / Math.sqrt(9 * cin) });
  const h2 = conv(c, `${name}.conv2`, silu(c, groupNorm(c, `${name}.norm2`, h1, cout, groups)), cout, cout, 3, { std: outStd / Math.sqrt(9 * cout) });
  const skip = cin === cout ? x : conv(c, `${name}.conv_shortcut`, x, cin, cout, 1, { std: 1 / Math.sqrt(cin) });
  return c.g.op('Add', [skip, h2]);
}

/** Single-head self-attention over all positions (the mid block's branch): proj(softmax(q·kᵀ/√ch)·v), shaped like x. */
export function attentionBranch(c: Ctx, name: string, x: string, ch: number, groups: number, outStd: number): string {
  const { g } = c;
  const seq = g.op('Transpose', [g.op('Reshape', [groupNorm(c, `${name}.group_norm`, x, ch, groups), g.ints([0, ch, -1])])], { perm: [0, 2, 1] });
  const lin = (n: string, v: string, std: number): string =>
    g.op('Add', [g.op('MatMul', [v, g.f16Bits(`${name}.${n}.weight`, [ch, ch], c.w.dense(ch * ch, std))]), g.f16(`${name}.${n}.bias`, [ch], new Float32Array(ch))]);
  const q = lin('to_q', seq, 1 / Math.sqrt(ch));
  const k = lin('to_k', seq, 1 / Math.sqrt(ch));
  const v = lin('to_v', seq, 1 / Math.sqrt(ch));
  const scores = g.op('Mul', [g.op('MatMul', [q, g.op('Transpose', [k], { perm: [0, 2, 1] })]), g.half(1 / Math.sqrt(ch))]);
  const out = lin('to_out.0', g.op('MatMul', [g.op('Softmax', [scores], { axis: -1 }), v]), outStd / Math.sqrt(ch));
  return g.op('Reshape', [g.op('Transpose', [out], { perm: [0, 2, 1] }), g.op('Shape', [x])]);
}

/** Nearest 2× upsampling (asymmetric, floor), as the exporter writes Upsample2D; the caller convolves after it. */
export function upsample2x(c: Ctx, x: string): string {
  return c.g.op('Resize', [x, '', c.g.f32(`up2_scales_${x}`, [4], [1, 1, 2, 2])],
    { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' });
}

/** FLUX's decoder: conv_in → mid (resnet, attention, resnet) → up blocks (resnets, upsample) → norm, SiLU, conv_out. */
export function vaeDecoderGraph(d: VaeDims, w: WeightSource): Uint8Array {
  const g = new GraphBuilder('zimage_vae_decoder');
  const c: Ctx = { g, w };
  g.input('latent_sample', 'float16', [1, d.latentChannels, 'latent_height', 'latent_width']);
  g.output('sample', 'float16', [1, 3, 'height', 'width']);
  const widths = [...d.blockOut].reverse();
  let ch = widths[0]!;
  let x = conv(c, 'conv_in', 'latent_sample', d.latentChannels, ch, 3, { std: 1 / Math.sqrt(9 * d.latentChannels) });
  x = resnet(c, 'mid_block.resnets.0', x, ch, ch, d.groups, 0.2);
  x = g.op('Add', [x, attentionBranch(c, 'mid_block.attentions.0', x, ch, d.groups, 0.2)]);
  x = resnet(c, 'mid_block.resnets.1', x, ch, ch, d.groups, 0.2);
  widths.forEach((out, i) => {
    for (let r = 0; r <= d.layersPerBlock; r++) { x = resnet(c, `up_blocks.${i}.resnets.${r}`, x, ch, out, d.groups, 0.2); ch = out; }
    if (i < widths.length - 1) x = conv(c, `up_blocks.${i}.upsamplers.0.conv`, upsample2x(c, x), ch, ch, 3, { std: 1 / Math.sqrt(9 * ch) });
  });
  const h = silu(c, groupNorm(c, 'conv_norm_out', x, ch, d.groups));
  g.op('Identity', [conv(c, 'conv_out', h, ch, 3, 3, { std: 1 / Math.sqrt(9 * ch) })], {}, 'sample');
  return g.encode();
}
