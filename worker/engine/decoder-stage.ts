/**
 * Stage 3: latent → VAE pre-process (÷0.3611 + 0.1159, in the graph) → VAE decoder → optional safety checker
 * (sc_prep + safety_checker; a flagged image throws SAFETY_BLOCKED) → interleaved uint8 RGB.
 */
import { ZimageError } from '../../src/errors.js';
import { float32ToFloat16, halfBitsToFloat } from './fp16.js';
import { ort } from './sessions.js';
import { timedRun, type StageStats } from './stage-stats.js';

export interface DecoderSessions {
  vaePreProcess: ort.InferenceSession;
  vaeDecoder: ort.InferenceSession;
  scPrep?: ort.InferenceSession;
  safetyChecker?: ort.InferenceSession;
}

export class DecoderStage {
  constructor(
    private readonly s: DecoderSessions,
    readonly channels: number,
    readonly vaeScale: number,
    private readonly stats: StageStats,
  ) {}

  /** Decodes a 2×2 zero latent to learn the VAE's upscale factor (8 for the FLUX VAE) from the model itself. */
  static async probeScale(decoder: ort.InferenceSession, channels: number): Promise<number> {
    const probe = 2;
    const out = await decoder.run({ latent_sample: new ort.Tensor('float16', new Uint16Array(channels * probe * probe), [1, channels, probe, probe]) });
    const dims = out.sample!.dims.map(Number);
    const scale = dims[2]! / probe;
    if (!Number.isInteger(scale) || scale < 1 || dims[3]! / probe !== scale) throw new Error(`unexpected output shape [${dims.join(',')}]`);
    return scale;
  }

  async decode(latent: Float32Array, width: number, height: number): Promise<Uint8Array> {
    let t0 = performance.now();
    const pre = await timedRun(this.stats, () => this.s.vaePreProcess.run({
      latents: new ort.Tensor('float16', float32ToFloat16(latent), [1, this.channels, height / this.vaeScale, width / this.vaeScale]),
    }));
    this.stats.record('preprocess', performance.now() - t0);
    t0 = performance.now();
    const sample = (await timedRun(this.stats, () => this.s.vaeDecoder.run({ latent_sample: pre.scaled_latents! }))).sample!;
    this.stats.record('decode', performance.now() - t0);
    const [, , h, w] = sample.dims.map(Number);
    if (h !== height || w !== width) throw new ZimageError('MODEL_INVALID', `VAE decoder produced ${w}x${h}, expected ${width}x${height}`);
    if (this.s.scPrep && this.s.safetyChecker) await this.checkSafety(sample);
    t0 = performance.now();
    const rgb = toRgb(sample.data as Uint16Array, width, height);
    this.stats.record('convert', performance.now() - t0);
    return rgb;
  }

  private async checkSafety(sample: ort.Tensor): Promise<void> {
    const t0 = performance.now();
    const prep = await timedRun(this.stats, () => this.s.scPrep!.run({ sample }));
    const verdict = await timedRun(this.stats, () => this.s.safetyChecker!.run({ clip_input: prep.clip_input! }));
    this.stats.record('safety', performance.now() - t0);
    const flags = Array.from(verdict.has_nsfw_concepts!.data as ArrayLike<number | boolean>);
    if (flags.some(Boolean)) throw new ZimageError('SAFETY_BLOCKED', 'the safety checker flagged this image; it was not delivered');
  }
}

let lutCache: Uint8Array | undefined;
/** uint8 value for every float16 bit pattern: clamp((x+1)/2, 0, 1)·255, rounded (NaN → 0). */
function rgbLut(): Uint8Array {
  if (!lutCache) {
    lutCache = new Uint8Array(65536);
    for (let b = 0; b < 65536; b++) {
      const v = (halfBitsToFloat(b) + 1) / 2;
      lutCache[b] = Number.isNaN(v) ? 0 : Math.round(Math.min(1, Math.max(0, v)) * 255);
    }
  }
  return lutCache;
}

/** [1,3,H,W] float16 in [-1,1] → interleaved uint8 RGB (HWC). */
export function toRgb(chw: Uint16Array, width: number, height: number): Uint8Array {
  const plane = width * height;
  const rgb = new Uint8Array(plane * 3);
  const lut = rgbLut();
  for (let c = 0; c < 3; c++) {
    const base = c * plane;
    for (let p = 0; p < plane; p++) rgb[p * 3 + c] = lut[chw[base + p]!]!;
  }
  return rgb;
}
