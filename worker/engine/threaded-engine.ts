/**
 * The production Engine: the pipeline split over two worker threads so that stages overlap across requests
 * and images (ZIMAGE_ONNX.md §11, throughput): thread "text-vae" tokenizes + text-encodes (with the feature
 * cache) and VAE-decodes (+ safety checker); thread "transformer" runs the Euler loop. While image k is
 * denoised, image k−1 is decoded and the next request's prompt is encoded — provided the caller submits the
 * next request before the current one resolves (concurrent generate() calls; they are served in order).
 * onnxruntime-node's `run` blocks only the engine threads; the caller's event loop stays free.
 */
import { isZimageError, ZimageError } from '../../src/errors.js';
import type { Engine, EngineImage, EngineInfo, EngineRequest, StepCallback } from './engine.js';
import { readDemoMarker } from './demo-model/build.js';
import { engineInfo, validateRequest } from './engine-info.js';
import { modelInvalid } from './graph-loader.js';
import { inspectModelDir } from './model-dir.js';
import { assembleModel } from './model-parts.js';
import { mergeStats, type StageStatsSnapshot } from './stage-stats.js';
import { ThreadClient } from './thread-client.js';
import { epochMs, type ThreadPartSettings } from './thread-protocol.js';

export { threadEntryUrl } from './thread-client.js';

export interface ThreadedEngineOptions extends Omit<ThreadPartSettings, 'modelDir' | 'stepDelayMs'> {
  /** The model directory, or a function that produces it (e.g. building the demo model) at load time. */
  modelDir: string | (() => Promise<string>);
  /** Largest accepted width/height in pixels. Default 2048. */
  maxSide?: number;
  /** Pause after each step when the directory holds the demo model (so progress can be watched). Default 0. */
  demoStepDelayMs?: number;
  /** Warnings from the engine threads (e.g. CUDA fallback). Default: console.warn. */
  onWarning?: (message: string) => void;
}

interface Loaded {
  info: EngineInfo;
  textVae: ThreadClient;
  transformer: ThreadClient;
  vaeScale: number;
  sizeMultiple: number;
  provider: string;
}

const cancelled = (): ZimageError => new ZimageError('CANCELLED', 'generation cancelled');

export class ThreadedEngine implements Engine {
  private loading: Promise<Loaded> | undefined;
  private disposed = false;
  /** Execution provider after load ('cpu' | 'cuda'). */
  provider: string | undefined;

  constructor(private readonly opts: ThreadedEngineOptions) {}

  async load(): Promise<EngineInfo> {
    return (await this.ensure()).info;
  }

  private ensure(): Promise<Loaded> {
    if (this.disposed) return Promise.reject(new ZimageError('ENGINE_DISPOSED', 'the engine was disposed'));
    if (!this.loading) {
      const attempt = this.start();
      this.loading = attempt;
      attempt.catch(() => { if (this.loading === attempt) this.loading = undefined; });
    }
    return this.loading;
  }

  private async start(): Promise<Loaded> {
    const { modelDir, onWarning, maxSide: _maxSide, demoStepDelayMs, ...rest } = this.opts;
    const dir = typeof modelDir === 'string' ? modelDir : await modelDir();
    const report = await inspectModelDir(dir, { safetyChecker: rest.safetyChecker });
    if (report.problems.length > 0) throw await modelInvalid(dir, report.problems, rest.safetyChecker);
    const warn = onWarning ?? ((m: string) => console.warn(m));
    let threads: ThreadClient[] = [];
    const onCrash = (): void => {
      // One half without the other is useless: stop both; the next call starts afresh.
      for (const t of threads) if (!t.dead) void t.terminate();
      if (this.loading === current) this.loading = undefined;
    };
    const textVae = new ThreadClient('text-vae', warn, onCrash);
    const transformer = new ThreadClient('transformer', warn, onCrash);
    threads = [textVae, transformer];
    let current: Promise<Loaded> | undefined;
    try {
      const demo = (await readDemoMarker(dir)) !== undefined;
      const settings: ThreadPartSettings = { ...rest, modelDir: dir, ...(demo && demoStepDelayMs ? { stepDelayMs: demoStepDelayMs } : {}) };
      const [a, b] = await Promise.all([
        textVae.call('open', { role: 'text-vae', settings }),
        transformer.call('open', { role: 'transformer', settings }),
      ]);
      const dims = await assembleModel(dir, [a, b], rest.safetyChecker ?? false);
      const [{ vaeScale }] = await Promise.all([
        textVae.call('configure', { channels: dims.channels }).catch(async (err: Error) => {
          throw await modelInvalid(dir, [`VAE decoder test decode failed: ${err.message.split('\n')[0]}`]);
        }),
        transformer.call('configure', { channels: dims.channels }),
      ]);
      const info = await engineInfo(report, rest.maxTokens);
      this.provider = b.provider;
      const loaded: Loaded = { info, textVae, transformer, vaeScale: vaeScale!, sizeMultiple: vaeScale! * 2, provider: b.provider };
      current = this.loading;
      return loaded;
    } catch (err) {
      await Promise.all(threads.map((t) => t.close(2000)));
      throw err;
    }
  }

  async generate(request: EngineRequest, onStep: StepCallback, signal?: AbortSignal): Promise<EngineImage[]> {
    if (signal?.aborted) throw cancelled();
    const m = await this.ensure();
    validateRequest(request, { sizeMultiple: m.sizeMultiple, maxSide: this.opts.maxSide ?? 2048 });
    if (signal?.aborted) throw cancelled();
    const cancel = new SharedArrayBuffer(4);
    const cell = new Int32Array(cancel);
    const stop = (): void => { Atomics.store(cell, 0, 1); };
    signal?.addEventListener('abort', stop, { once: true });
    try {
      const features = await m.textVae.call('encode', { prompt: request.prompt });
      const latentHeight = request.height / m.vaeScale;
      const latentWidth = request.width / m.vaeScale;
      // All images of a request are queued on the transformer thread at once (requests stay in FIFO order);
      // each latent is decoded on the other thread while the transformer moves on.
      let firstError: unknown;
      const chains = request.seeds.map(async (seed, k): Promise<EngineImage> => {
        try {
          const { latent, startedAt } = await m.transformer.call('denoise',
            { job: { features, seed, latentHeight, latentWidth, steps: request.steps }, cancel },
            { onStep: (step) => onStep(k + 1, step, request.steps) });
          const rgb = await m.textVae.call('decode', { latent, width: request.width, height: request.height, cancel },
            { transfer: [latent.buffer as ArrayBuffer] });
          return { seed, width: request.width, height: request.height, rgb, ms: Math.round(epochMs() - startedAt) };
        } catch (err) {
          // A real failure (e.g. SAFETY_BLOCKED) stops the request's remaining images and wins over their CANCELLED.
          if (!isZimageError(err, 'CANCELLED')) { firstError ??= err; stop(); }
          throw err;
        }
      });
      const settled = await Promise.allSettled(chains);
      if (firstError !== undefined) throw firstError;
      return settled.map((r) => { if (r.status === 'rejected') throw r.reason; return r.value; });
    } finally {
      signal?.removeEventListener('abort', stop);
    }
  }

  /** Stage timings of both threads (and the text-feature cache); `reset` zeroes the counters after reading. */
  async stats(reset = false): Promise<StageStatsSnapshot> {
    const m = await this.ensure();
    const [a, b] = await Promise.all([m.textVae.call('stats', { reset }), m.transformer.call('stats', { reset })]);
    return mergeStats(a, b);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const m = await this.loading?.catch(() => undefined);
    if (m) await Promise.all([m.textVae.close(), m.transformer.close()]);
  }
}
