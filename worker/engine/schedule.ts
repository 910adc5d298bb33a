/**
 * Flow-matching Euler sigma schedules for Z-Image-Turbo (FlowMatchEulerDiscrete, 1000 train steps, shift 3.0,
 * no dynamic shifting). See docs: shared/design/ZIMAGE_ONNX.md §3.
 *
 * Each schedule lists, per transformer call i: σ_i, σ_next_i and the transformer timestep t_i (= 1 − σ_i,
 * 0 = pure noise, 1 = clean). The Euler update is x ← x − (σ_next − σ)·sample.
 */

export type ScheduleKind = 'reference' | 'webnn';

export interface Schedule {
  kind: ScheduleKind;
  steps: number;
  sigmas: Float64Array;
  nextSigmas: Float64Array;
  timesteps: Float64Array;
}

export const SHIFT = 3.0;
export const TRAIN_TIMESTEPS = 1000;
export const MIN_STEPS = 1;
export const MAX_STEPS = 16;

/** Time shift f(s) = shift·s / (1 + (shift − 1)·s). */
export function shiftSigma(s: number, shift = SHIFT): number {
  return (shift * s) / (1 + (shift - 1) * s);
}

function linspace(start: number, end: number, count: number): number[] {
  if (count === 1) return [start];
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(start + ((end - start) * i) / (count - 1));
  return out;
}

function checkSteps(steps: number): void {
  if (!Number.isInteger(steps) || steps < MIN_STEPS || steps > MAX_STEPS) {
    throw new RangeError(`steps must be an integer in ${MIN_STEPS}..${MAX_STEPS}, got ${steps}`);
  }
}

/**
 * Reference schedule (diffusers ZImagePipeline with sigma_min = 0, minus its trailing zero-width step, as the
 * official Tongyi code runs it): N real steps, σ_i = f(s_i) for s = linspace(1, 0, N + 1), σ_N = 0.
 * N = 8 → σ = 1, .9545, .9, .8333, .75, .6429, .5, .3 → 0.
 */
export function referenceSchedule(steps: number): Schedule {
  checkSteps(steps);
  const s = linspace(1, 0, steps + 1).map((v) => shiftSigma(v));
  const sigmas = Float64Array.from(s.slice(0, steps));
  const nextSigmas = Float64Array.from(s.slice(1));
  nextSigmas[steps - 1] = 0;
  const timesteps = sigmas.map((v) => 1 - v);
  return { kind: 'reference', steps, sigmas, nextSigmas, timesteps };
}

/**
 * WebNN/ONNX schedule (what scheduler_step_model_f16 bakes in): σ_min* = f(1/1000); s = linspace(1, σ_min*, N)
 * (N points — the diffusers default-scheduler quirk); σ_i = f(s_i); σ_next of the last step forced to 0; the
 * last timestep forced to 1.0 as the WebNN demo does. N = 9 → σ = 1 … .3050, .0089; t = 0 … .6950, 1.
 */
export function webnnSchedule(steps: number): Schedule {
  checkSteps(steps);
  const sigmaMinStar = shiftSigma(1 / TRAIN_TIMESTEPS);
  const sigmas = Float64Array.from(linspace(1, sigmaMinStar, steps).map((v) => shiftSigma(v)));
  const nextSigmas = new Float64Array(steps);
  for (let i = 0; i < steps; i++) nextSigmas[i] = i + 1 < steps ? sigmas[i + 1]! : 0;
  const timesteps = sigmas.map((v) => 1 - v);
  timesteps[steps - 1] = 1;
  return { kind: 'webnn', steps, sigmas, nextSigmas, timesteps };
}

export function makeSchedule(kind: ScheduleKind, steps: number): Schedule {
  return kind === 'webnn' ? webnnSchedule(steps) : referenceSchedule(steps);
}
