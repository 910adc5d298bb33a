/**
 * Stage 2: the flow-matching Euler loop over the transformer on a float32 master latent (ZIMAGE_ONNX.md §3):
 * x ← x − (σ_next − σ)·sample, timestep = 1 − σ (float16). Cancellation is checked between steps.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ZimageError } from '../../src/errors.js';
import { float16ToFloat32, float32ToFloat16, floatToHalfBits } from './fp16.js';
import { gaussianNoise } from './noise.js';
import { makeSchedule, type ScheduleKind } from './schedule.js';
import { ort } from './sessions.js';
import { timedRun, type StageStats } from './stage-stats.js';
import type { TextFeatures } from './text-feature-cache.js';

/** Anything with an `aborted` flag: an AbortSignal, or a shared-memory flag in an engine thread. */
export interface CancelFlag { readonly aborted: boolean }

export function checkCancelled(signal?: CancelFlag): void {
  if (signal?.aborted) throw new ZimageError('CANCELLED', 'generation cancelled');
}

export interface DenoiseJob {
  features: TextFeatures;
  seed: number;
  latentHeight: number;
  latentWidth: number;
  steps: number;
}

export class Denoiser {
  constructor(
    private readonly transformer: ort.InferenceSession,
    readonly channels: number,
    private readonly schedule: ScheduleKind,
    private readonly stepDelayMs: number,
    private readonly stats: StageStats,
  ) {}

  /** Runs all steps; `onStep(step)` after each. Returns the final latent [1, C, h, w] as float32. */
  async denoise(job: DenoiseJob, onStep: (step: number) => void, signal?: CancelFlag): Promise<Float32Array> {
    const { features, latentHeight: lh, latentWidth: lw } = job;
    const C = this.channels;
    const schedule = makeSchedule(this.schedule, job.steps);
    const x = gaussianNoise(job.seed, C * lh * lw);
    const half = new Uint16Array(x.length);
    const velocity = new Float32Array(x.length);
    const text = new ort.Tensor('float16', features.data, [1, features.tokens, features.hidden]);
    for (let i = 0; i < schedule.steps; i++) {
      checkCancelled(signal);
      const t0 = performance.now();
      const out = await timedRun(this.stats, () => this.transformer.run({
        hidden_states: new ort.Tensor('float16', float32ToFloat16(x, half), [1, C, lh, lw]),
        encoder_hidden_states: text,
        timestep: new ort.Tensor('float16', Uint16Array.of(floatToHalfBits(schedule.timesteps[i]!)), [1]),
      }));
      float16ToFloat32(out.sample!.data as Uint16Array, velocity);
      const dt = schedule.nextSigmas[i]! - schedule.sigmas[i]!;
      for (let j = 0; j < x.length; j++) x[j] = x[j]! - dt * velocity[j]!;
      this.stats.record('step', performance.now() - t0);
      onStep(i + 1);
      if (this.stepDelayMs > 0) await sleep(this.stepDelayMs);
    }
    checkCancelled(signal);
    return x;
  }
}
