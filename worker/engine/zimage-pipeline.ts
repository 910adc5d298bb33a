/**
 * The Z-Image-Turbo pipeline on onnxruntime-node, all in the calling thread — one code path for the v2 export
 * and the demo model (ZIMAGE_ONNX.md §9): templated prompt → text encoder → Euler loop over the transformer on
 * a float32 master latent → VAE pre-process → VAE decoder → uint8 RGB → optional safety checker.
 * onnxruntime-node's `run` blocks the calling thread: production uses ThreadedEngine (two engine threads,
 * stages overlapped); this class serves the CLI benchmarks and in-process tools.
 */
import type { EngineImage, EngineInfo, EngineRequest, StepCallback } from './engine.js';
import { checkCancelled, type CancelFlag } from './denoiser.js';
import { engineInfo, validateRequest } from './engine-info.js';
import { modelInvalid } from './graph-loader.js';
import { inspectModelDir } from './model-dir.js';
import { assembleModel, TextVaePart, TransformerPart, type PartSettings } from './model-parts.js';
import { mergeStats, type StageStatsSnapshot } from './stage-stats.js';

export interface PipelineOptions extends PartSettings {
  /** Largest accepted width/height in pixels. Default 2048. */
  maxSide?: number;
}

export interface LoadedModel {
  info: EngineInfo;
  channels: number;
  hidden: number;
  vaeScale: number;
  sizeMultiple: number;
  provider: 'cpu' | 'cuda';
}

export class ZimagePipeline {
  private constructor(
    readonly model: LoadedModel,
    private readonly textVae: TextVaePart,
    private readonly transformer: TransformerPart,
    private readonly opts: PipelineOptions,
  ) {}

  get info(): EngineInfo { return this.model.info; }

  /** Loads and validates a model directory; one MODEL_INVALID error lists everything that is wrong. */
  static async load(opts: PipelineOptions): Promise<ZimagePipeline> {
    const report = await inspectModelDir(opts.modelDir, { safetyChecker: opts.safetyChecker });
    if (report.problems.length > 0) throw await modelInvalid(opts.modelDir, report.problems, opts.safetyChecker);
    const a = await TextVaePart.open(opts);
    const b = await TransformerPart.open(opts).catch(async (err: unknown) => { await a.part.dispose(); throw err; });
    try {
      const dims = await assembleModel(opts.modelDir, [a.report, b.report], opts.safetyChecker ?? false);
      const vaeScale = await a.part.configure(dims.channels)
        .catch(async (err: Error) => { throw await modelInvalid(opts.modelDir, [`VAE decoder test decode failed: ${err.message.split('\n')[0]}`]); });
      b.part.configure(dims.channels);
      const info = await engineInfo(report, opts.maxTokens);
      // Patch size 2 is part of the transformer contract (2×2 patchify): sizes are multiples of vaeScale·2.
      const model: LoadedModel = { info, ...dims, vaeScale, sizeMultiple: vaeScale * 2, provider: b.report.provider };
      return new ZimagePipeline(model, a.part, b.part, opts);
    } catch (err) {
      await Promise.all([a.part.dispose(), b.part.dispose()]);
      throw err;
    }
  }

  validate(request: EngineRequest): void {
    validateRequest(request, { sizeMultiple: this.model.sizeMultiple, maxSide: this.opts.maxSide ?? 2048 });
  }

  /** Generates one image per seed. `onStep(image, step, steps)` after every denoising step. */
  async generate(request: EngineRequest, onStep: StepCallback, signal?: CancelFlag): Promise<EngineImage[]> {
    this.validate(request);
    checkCancelled(signal);
    const features = await this.textVae.encode(request.prompt);
    const { vaeScale } = this.model;
    const images: EngineImage[] = [];
    for (let k = 0; k < request.seeds.length; k++) {
      const t0 = performance.now();
      const seed = request.seeds[k]!;
      const latent = await this.transformer.denoise(
        { features, seed, latentHeight: request.height / vaeScale, latentWidth: request.width / vaeScale, steps: request.steps },
        (step) => onStep(k + 1, step, request.steps), signal);
      const rgb = await this.textVae.decode(latent, request.width, request.height);
      images.push({ seed, width: request.width, height: request.height, rgb, ms: Math.round(performance.now() - t0) });
    }
    return images;
  }

  stats(): StageStatsSnapshot {
    return { ...mergeStats(this.textVae.stats.snapshot(), this.transformer.stats.snapshot()), textCache: this.textVae.cacheStats() };
  }

  resetStats(): void {
    this.textVae.stats.reset();
    this.transformer.stats.reset();
  }

  async dispose(): Promise<void> {
    await Promise.all([this.textVae.dispose(), this.transformer.dispose()]);
  }
}
