/**
 * `npm run bench:engine -- --model DIR`: what a full-size model costs on our code path (the same parts the
 * engine threads load): peak RSS while loading each half and after load, then per size (256², 512², 1024²)
 * the text encoding, each denoising step and the VAE decode — time and peak RSS. A size whose estimated step or
 * decode time (scaled from the last measured size by token / pixel count) exceeds the budget is skipped, and the
 * report says so and why (on a 2-core CPU one step at 256² is what fits).
 */
import { inspectModelDir } from '../engine/model-dir.js';
import { modelInvalid } from '../engine/graph-loader.js';
import { assembleModel, TextVaePart, TransformerPart, type PartSettings } from '../engine/model-parts.js';
import { engineInfo } from '../engine/engine-info.js';
import { maxRss, RssSampler } from './rss-sampler.js';

export interface FullBenchOptions {
  modelDir: string;
  sizes: number[];
  steps: number;
  /** Skip a size when its estimated time per step / per decode exceeds these (seconds). */
  maxStepS: number;
  maxDecodeS: number;
  settings: Omit<PartSettings, 'modelDir'>;
  prompt?: string;
  log?: (line: string) => void;
}

export interface SizeResult {
  size: number;
  tokens: number;
  stepMs?: number[];
  stepPeakRss?: number;
  decodeMs?: number;
  decodePeakRss?: number;
  skipped?: string;
}

export interface FullBenchResult {
  model: string;
  provider: string;
  load: { textVaeMs: number; textVaePeakRss: number; transformerMs: number; transformerPeakRss: number; rssAfterLoad: number };
  encode: { ms: number; peakRss: number; tokens: number };
  sizes: SizeResult[];
  maxRss: number;
}

const gb = (b: number): string => `${(b / 2 ** 30).toFixed(2)} GiB`;
const sec = (ms: number): string => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;

export async function benchFullModel(o: FullBenchOptions): Promise<FullBenchResult> {
  const log = o.log ?? (() => undefined);
  const settings: PartSettings = { ...o.settings, modelDir: o.modelDir };
  const report = await inspectModelDir(o.modelDir);
  if (report.problems.length) throw await modelInvalid(o.modelDir, report.problems);
  const rss = new RssSampler();
  try {
    log('loading text encoder + VAE …');
    const a = await rss.measure(() => TextVaePart.open(settings));
    log(`  ${sec(a.ms)}, peak ${gb(a.peakRss)}; loading transformer …`);
    const b = await rss.measure(() => TransformerPart.open(settings));
    log(`  ${sec(b.ms)}, peak ${gb(b.peakRss)}`);
    const textVae = a.value.part;
    const transformer = b.value.part;
    try {
      const dims = await assembleModel(o.modelDir, [a.value.report, b.value.report], false);
      const vaeScale = await textVae.configure(dims.channels);
      transformer.configure(dims.channels);
      const rssAfterLoad = process.memoryUsage.rss();
      const enc = await rss.measure(() => textVae.encode(o.prompt ?? 'a ginger cat on a windowsill, morning light, photorealistic'));
      log(`text encoder: ${enc.value.tokens} tokens in ${sec(enc.ms)}, peak ${gb(enc.peakRss)}`);
      const sizes: SizeResult[] = [];
      let last: { tokens: number; stepMs?: number; decodeMs?: number; pixels: number } | undefined;
      for (const size of o.sizes) {
        const latent = size / vaeScale;
        const tokens = (latent / 2) ** 2;
        const r: SizeResult = { size, tokens };
        sizes.push(r);
        const estStep = last?.stepMs !== undefined ? (last.stepMs * (tokens + enc.value.tokens)) / (last.tokens + enc.value.tokens) : 0;
        if (estStep > o.maxStepS * 1000) {
          r.skipped = `estimated ≥ ${sec(estStep)} per step (${tokens + enc.value.tokens} vs ${last!.tokens + enc.value.tokens} tokens, linear scaling; attention grows faster) exceeds --max-step-s ${o.maxStepS}`;
          log(`${size}²: skipped — ${r.skipped}`);
          continue;
        }
        log(`${size}²: ${o.steps} step(s) over ${tokens} image + ${enc.value.tokens} caption tokens …`);
        const stamps: number[] = [];
        const t0 = performance.now();
        const den = await rss.measure(() => transformer.denoise(
          { features: enc.value, seed: 1, latentHeight: latent, latentWidth: latent, steps: o.steps }, () => { stamps.push(performance.now()); }));
        r.stepMs = stamps.map((t, i) => t - (i === 0 ? t0 : stamps[i - 1]!));
        r.stepPeakRss = den.peakRss;
        log(`  step ${r.stepMs.map(sec).join(', ')}, peak ${gb(den.peakRss)}`);
        const estDecode = last?.decodeMs !== undefined ? (last.decodeMs * size * size) / last.pixels : 0;
        if (estDecode > o.maxDecodeS * 1000) {
          r.skipped = `VAE decode skipped: estimated ≥ ${sec(estDecode)} (pixels ×${((size * size) / last!.pixels).toFixed(0)}) exceeds --max-decode-s ${o.maxDecodeS}`;
          log(`  ${r.skipped}`);
          last = { tokens, stepMs: Math.min(...r.stepMs), pixels: size * size };
          continue;
        }
        const dec = await rss.measure(() => textVae.decode(den.value, size, size));
        r.decodeMs = dec.ms;
        r.decodePeakRss = dec.peakRss;
        log(`  VAE decode ${sec(dec.ms)}, peak ${gb(dec.peakRss)}`);
        last = { tokens, stepMs: Math.min(...r.stepMs), decodeMs: dec.ms, pixels: size * size };
      }
      return {
        model: (await engineInfo(report)).name, provider: b.value.report.provider,
        load: { textVaeMs: a.ms, textVaePeakRss: a.peakRss, transformerMs: b.ms, transformerPeakRss: b.peakRss, rssAfterLoad },
        encode: { ms: enc.ms, peakRss: enc.peakRss, tokens: enc.value.tokens }, sizes, maxRss: maxRss(),
      };
    } finally {
      await Promise.all([textVae.dispose(), transformer.dispose()]);
    }
  } finally {
    await rss.stop();
  }
}

export function fullBenchMarkdown(r: FullBenchResult): string {
  const rows = [
    `| ${r.model} (${r.provider}) | time | peak RSS |`, '|---|---:|---:|',
    `| load text encoder + VAE | ${sec(r.load.textVaeMs)} | ${gb(r.load.textVaePeakRss)} |`,
    `| load transformer | ${sec(r.load.transformerMs)} | ${gb(r.load.transformerPeakRss)} |`,
    `| after load (resident) | | ${gb(r.load.rssAfterLoad)} |`,
    `| text encoder (${r.encode.tokens} tokens) | ${sec(r.encode.ms)} | ${gb(r.encode.peakRss)} |`,
  ];
  for (const s of r.sizes) {
    if (s.stepMs) rows.push(`| ${s.size}² denoising step (${s.tokens} image tokens) | ${s.stepMs.map(sec).join(', ')} | ${gb(s.stepPeakRss!)} |`);
    if (s.decodeMs !== undefined) rows.push(`| ${s.size}² VAE decode | ${sec(s.decodeMs)} | ${gb(s.decodePeakRss!)} |`);
    if (s.skipped) rows.push(`| ${s.size}² | skipped: ${s.skipped} | |`);
  }
  rows.push(`| process high-water mark (maxRSS) | | ${gb(r.maxRss)} |`);
  return rows.join('\n');
}
