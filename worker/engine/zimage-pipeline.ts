/**
 * The Z-Image-Turbo pipeline on onnxruntime-node — one code path for the v2 export and the demo model
 * (ZIMAGE_ONNX.md §9): templated prompt → text encoder → Euler loop over the transformer on a float32 master
 * latent → VAE pre-process → VAE decoder → uint8 RGB (HWC) → optional safety checker.
 * Runs on whatever thread calls it; onnxruntime-node's `run` blocks that thread (see threaded-engine.ts).
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ZimageError } from '../../src/errors.js';
import { DEFAULT_MAX_TOKENS, loadPromptTokenizer, type PromptTokenizer } from '../../src/model/prompt-tokenizer.js';
import { checkGraph, readDims, type ModelDims, type PortMetadata } from './contract.js';
import { readDemoMarker } from './demo-model/build.js';
import type { EngineImage, EngineInfo, EngineRequest, StepCallback } from './engine.js';
import { float16ToFloat32, float32ToFloat16, floatToHalfBits, halfBitsToFloat } from './fp16.js';
import { inspectModelDir, listModelDir } from './model-dir.js';
import { MODEL_FILES, REQUIRED_FILES, SAFETY_FILES, type ModelFileKey } from './model-files.js';
import { gaussianNoise } from './noise.js';
import { MAX_STEPS, MIN_STEPS, makeSchedule, type ScheduleKind } from './schedule.js';
import { createSession, ort, type SessionSettings } from './sessions.js';
import { TextFeatureCache, type TextFeatures } from './text-feature-cache.js';

export interface PipelineOptions extends SessionSettings {
  modelDir: string;
  /** 'reference' (default: diffusers/Tongyi N-step) or 'webnn' (the ONNX helper's schedule). */
  schedule?: ScheduleKind;
  /** Demo pacing: sleep this long after each step so progress can be watched. Default 0. */
  stepDelayMs?: number;
  /** Run sc_prep + safety_checker on every image; flagged images throw SAFETY_BLOCKED. Default off. */
  safetyChecker?: boolean;
  /** Byte budget of the text-feature LRU cache. Default 64 MiB; 0 disables it. */
  textCacheBytes?: number;
  maxTokens?: number;
  /** Largest accepted width/height in pixels. Default 2048. */
  maxSide?: number;
  /** Receives the duration of each stage (for benchmarks and metrics). */
  onStage?: (stage: PipelineStage, ms: number) => void;
}

export type PipelineStage = 'tokenize' | 'encode' | 'step' | 'preprocess' | 'decode' | 'safety' | 'convert';

/** Anything with an `aborted` flag: an AbortSignal, or a shared-memory flag in the engine thread. */
export interface CancelFlag { readonly aborted: boolean }

type Sessions = Partial<Record<ModelFileKey, ort.InferenceSession>>;

function metadata(s: ort.InferenceSession): { inputs: PortMetadata[]; outputs: PortMetadata[] } {
  const conv = (m: ort.InferenceSession.ValueMetadata): PortMetadata =>
    m.isTensor ? { name: m.name, isTensor: true, type: m.type, shape: m.shape } : { name: m.name, isTensor: false };
  return { inputs: s.inputMetadata.map(conv), outputs: s.outputMetadata.map(conv) };
}

export class ZimagePipeline {
  readonly textCache: TextFeatureCache;
  private disposed = false;

  private constructor(
    readonly info: EngineInfo,
    readonly dims: ModelDims & { vaeScale: number; sizeMultiple: number },
    readonly provider: 'cpu' | 'cuda',
    private readonly sessions: Sessions,
    private readonly tokenizer: PromptTokenizer,
    private readonly opts: PipelineOptions,
  ) {
    this.textCache = new TextFeatureCache(opts.textCacheBytes ?? 64 << 20);
  }

  /** Loads and validates a model directory; one MODEL_INVALID error lists everything that is wrong. */
  static async load(opts: PipelineOptions): Promise<ZimagePipeline> {
    const dir = opts.modelDir;
    const report = await inspectModelDir(dir, { safetyChecker: opts.safetyChecker });
    const problems = [...report.problems];
    const invalid = async (list: string[]): Promise<ZimageError> => new ZimageError('MODEL_INVALID',
      `model directory ${dir} does not hold a usable Z-Image-Turbo ONNX export (v2 layout):\n  - ${list.join('\n  - ')}\n` +
      `expected: ${[...REQUIRED_FILES, ...(opts.safetyChecker ? SAFETY_FILES : [])].map((k) => MODEL_FILES[k]).join(', ')} ` +
      `(+ their .onnx_data shards)\nfound: ${await listModelDir(dir)}`, { dir, problems: list.length });
    if (problems.length > 0) throw await invalid(problems);

    const tokenizer = await loadPromptTokenizer(dir);
    const keys: ModelFileKey[] = ['textEncoder', 'transformer', 'vaePreProcess', 'vaeDecoder', ...(opts.safetyChecker ? SAFETY_FILES : [])];
    const sessions: Sessions = {};
    const meta: Partial<Record<ModelFileKey, ReturnType<typeof metadata>>> = {};
    let provider: 'cpu' | 'cuda' = 'cpu';
    const release = async (): Promise<void> => { await Promise.all(Object.values(sessions).map((s) => s.release())); };
    for (const key of keys) {
      const file = MODEL_FILES[key];
      try {
        const created = await createSession(join(dir, file), opts);
        sessions[key] = created.session;
        provider = created.provider;
      } catch (err) {
        if (err instanceof ZimageError) { await release(); throw err; }
        problems.push(`${file}: onnxruntime cannot load it: ${(err as Error).message.split('\n')[0]}`);
        continue;
      }
      meta[key] = metadata(sessions[key]!);
      problems.push(...checkGraph(key, file, meta[key]!.inputs, meta[key]!.outputs));
    }
    const { dims, problems: dimProblems } = readDims(meta);
    problems.push(...dimProblems);
    if (problems.length > 0 || !dims) { await release(); throw await invalid(problems.length ? problems : ['cannot read model sizes']); }

    const vaeScale = await probeVaeScale(sessions.vaeDecoder!, dims.channels).catch(async (err: Error) => {
      await release();
      throw await invalid([`${MODEL_FILES.vaeDecoder}: test decode failed: ${err.message.split('\n')[0]}`]);
    });
    const marker = await readDemoMarker(dir);
    const info: EngineInfo = marker
      ? { id: 'zimage-demo', name: 'demo model', demo: true, version: `demo-v${marker.version}`, maxTokens: opts.maxTokens ?? DEFAULT_MAX_TOKENS }
      : {
        id: 'z-image-turbo-onnx-v2', name: 'Z-Image-Turbo (ONNX q4f16)', demo: false,
        version: createHash('sha256').update(report.found.map((f) => `${f.path}:${f.bytes}`).join('\n')).digest('hex').slice(0, 12),
        maxTokens: opts.maxTokens ?? DEFAULT_MAX_TOKENS,
      };
    // Patch size 2 is part of the transformer contract (2×2 patchify); images are multiples of vaeScale·2.
    return new ZimagePipeline(info, { ...dims, vaeScale, sizeMultiple: vaeScale * 2 }, provider, sessions, tokenizer, opts);
  }

  /** Throws INVALID_REQUEST / PROMPT_TOO_LONG for a request this model cannot run. */
  validate(request: EngineRequest): void {
    const { width, height, steps, seeds } = request;
    const m = this.dims.sizeMultiple;
    const maxSide = this.opts.maxSide ?? 2048;
    for (const [what, v] of [['width', width], ['height', height]] as const) {
      if (!Number.isInteger(v) || v < m || v > maxSide || v % m !== 0) {
        throw new ZimageError('INVALID_REQUEST', `${what} must be a multiple of ${m} between ${m} and ${maxSide}, got ${v}`, { [what]: v });
      }
    }
    if (!Number.isInteger(steps) || steps < MIN_STEPS || steps > MAX_STEPS) {
      throw new ZimageError('INVALID_REQUEST', `steps must be an integer in ${MIN_STEPS}..${MAX_STEPS}, got ${steps}`, { steps });
    }
    if (seeds.length === 0 || seeds.some((s) => !Number.isInteger(s) || s < 0 || s > 0xffffffff)) {
      throw new ZimageError('INVALID_REQUEST', `seeds must be 1 or more integers in 0..4294967295`, { count: seeds.length });
    }
  }

  /** Tokenizes and encodes a prompt (cached by prompt). */
  async encodeText(prompt: string): Promise<TextFeatures> {
    const cached = this.textCache.get(prompt);
    if (cached) return cached;
    let t0 = performance.now();
    const verdict = this.tokenizer.check(prompt, this.info.maxTokens);
    if (!verdict.ok) {
      throw new ZimageError('PROMPT_TOO_LONG',
        `prompt is ${verdict.tokens} tokens, the limit is ${verdict.maxTokens}; cut off: "${verdict.cutText}"`,
        { tokens: verdict.tokens, maxTokens: verdict.maxTokens, cutText: verdict.cutText });
    }
    const ids = this.tokenizer.encode(prompt);
    this.opts.onStage?.('tokenize', performance.now() - t0);
    t0 = performance.now();
    const idTensor = new ort.Tensor('int64', BigInt64Array.from(ids, (v) => BigInt(v)), [1, ids.length]);
    const mask = new ort.Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]);
    const out = await this.session('textEncoder').run({ input_ids: idTensor, attention_mask: mask });
    const e = out.encoder_hidden_states!;
    this.opts.onStage?.('encode', performance.now() - t0);
    const features: TextFeatures = { data: e.data as Uint16Array, tokens: ids.length, hidden: Number(e.dims[2]) };
    this.textCache.set(prompt, features);
    return features;
  }

  /** Generates one image per seed. `onStep(image, step, steps)` after every denoising step. */
  async generate(request: EngineRequest, onStep: StepCallback, signal?: CancelFlag): Promise<EngineImage[]> {
    this.validate(request);
    checkCancelled(signal);
    const features = await this.encodeText(request.prompt);
    const images: EngineImage[] = [];
    for (let k = 0; k < request.seeds.length; k++) {
      const t0 = performance.now();
      const seed = request.seeds[k]!;
      const latent = await this.denoise(features, seed, request, (step) => onStep(k + 1, step, request.steps), signal);
      const rgb = await this.decode(latent, request.width, request.height);
      images.push({ seed, width: request.width, height: request.height, rgb, ms: Math.round(performance.now() - t0) });
    }
    return images;
  }

  /** The Euler loop on a float32 master latent: x ← x − (σ_next − σ)·sample. Returns the final latent. */
  async denoise(features: TextFeatures, seed: number, size: { width: number; height: number; steps: number },
    onStep: (step: number) => void, signal?: CancelFlag): Promise<Float32Array> {
    const { channels, vaeScale } = this.dims;
    const lh = size.height / vaeScale;
    const lw = size.width / vaeScale;
    const schedule = makeSchedule(this.opts.schedule ?? 'reference', size.steps);
    const x = gaussianNoise(seed, channels * lh * lw);
    const half = new Uint16Array(x.length);
    const velocity = new Float32Array(x.length);
    const text = new ort.Tensor('float16', features.data, [1, features.tokens, features.hidden]);
    const transformer = this.session('transformer');
    for (let i = 0; i < schedule.steps; i++) {
      checkCancelled(signal);
      const t0 = performance.now();
      const out = await transformer.run({
        hidden_states: new ort.Tensor('float16', float32ToFloat16(x, half), [1, channels, lh, lw]),
        encoder_hidden_states: text,
        timestep: new ort.Tensor('float16', Uint16Array.of(floatToHalfBits(schedule.timesteps[i]!)), [1]),
      });
      float16ToFloat32(out.sample!.data as Uint16Array, velocity);
      const dt = schedule.nextSigmas[i]! - schedule.sigmas[i]!;
      for (let j = 0; j < x.length; j++) x[j] = x[j]! - dt * velocity[j]!;
      this.opts.onStage?.('step', performance.now() - t0);
      onStep(i + 1);
      if (this.opts.stepDelayMs) await sleep(this.opts.stepDelayMs);
    }
    checkCancelled(signal);
    return x;
  }

  /** VAE pre-process + decoder + uint8 conversion (+ safety checker when enabled). */
  async decode(latent: Float32Array, width: number, height: number): Promise<Uint8Array> {
    const { channels, vaeScale } = this.dims;
    let t0 = performance.now();
    const pre = await this.session('vaePreProcess').run({
      latents: new ort.Tensor('float16', float32ToFloat16(latent), [1, channels, height / vaeScale, width / vaeScale]),
    });
    this.opts.onStage?.('preprocess', performance.now() - t0);
    t0 = performance.now();
    const dec = await this.session('vaeDecoder').run({ latent_sample: pre.scaled_latents! });
    const sample = dec.sample!;
    this.opts.onStage?.('decode', performance.now() - t0);
    const [, , h, w] = sample.dims.map(Number) as [number, number, number, number];
    if (h !== height || w !== width) throw new ZimageError('MODEL_INVALID', `VAE decoder produced ${w}x${h}, expected ${width}x${height}`);
    if (this.opts.safetyChecker) await this.checkSafety(sample);
    t0 = performance.now();
    const rgb = toRgb(sample.data as Uint16Array, width, height);
    this.opts.onStage?.('convert', performance.now() - t0);
    return rgb;
  }

  private async checkSafety(sample: ort.Tensor): Promise<void> {
    const t0 = performance.now();
    const prep = await this.session('scPrep').run({ sample });
    const verdict = await this.session('safetyChecker').run({ clip_input: prep.clip_input! });
    this.opts.onStage?.('safety', performance.now() - t0);
    const flags = verdict.has_nsfw_concepts!.data as Uint8Array | boolean[];
    if (Array.from(flags as ArrayLike<number | boolean>).some(Boolean)) {
      throw new ZimageError('SAFETY_BLOCKED', 'the safety checker flagged this image; it was not delivered');
    }
  }

  private session(key: ModelFileKey): ort.InferenceSession {
    if (this.disposed) throw new ZimageError('ENGINE_DISPOSED', 'the engine was disposed');
    const s = this.sessions[key];
    if (!s) throw new ZimageError('MODEL_INVALID', `${MODEL_FILES[key]} is not loaded`);
    return s;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await Promise.all(Object.values(this.sessions).map((s) => s.release()));
  }
}

export function checkCancelled(signal?: CancelFlag): void {
  if (signal?.aborted) throw new ZimageError('CANCELLED', 'generation cancelled');
}

/** Decodes a 2×2 zero latent to learn the VAE's upscale factor (8 for FLUX VAE) from the model itself. */
async function probeVaeScale(decoder: ort.InferenceSession, channels: number): Promise<number> {
  const probe = 2;
  const out = await decoder.run({ latent_sample: new ort.Tensor('float16', new Uint16Array(channels * probe * probe), [1, channels, probe, probe]) });
  const dims = out.sample!.dims.map(Number);
  const scale = dims[2]! / probe;
  if (!Number.isInteger(scale) || scale < 1 || dims[3]! / probe !== scale) throw new Error(`unexpected output shape [${dims.join(',')}]`);
  return scale;
}

let lutCache: Uint8Array | undefined;
/** uint8 value for every float16 bit pattern. */
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

/** [1,3,H,W] float16 in [-1,1] → interleaved uint8 RGB: clamp((x+1)/2, 0, 1)·255, rounded. */
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
