/**
 * RPC between ThreadedEngine (the caller's thread) and an engine thread (thread-entry). Each engine thread
 * hosts one half of the model (model-parts.ts): 'text-vae' or 'transformer'. Calls run one at a time in
 * arrival order. Messages are structured-clone safe; latents and RGB are transferred, not copied.
 * Cancellation uses a SharedArrayBuffer flag per generation, visible between steps even while the thread is busy.
 */
import type { DenoiseJob } from './denoiser.js';
import type { PartReport } from './model-parts.js';
import type { ScheduleKind } from './schedule.js';
import type { ExecutionProviderChoice } from './sessions.js';
import type { StageStatsSnapshot } from './stage-stats.js';
import type { TextFeatures } from './text-feature-cache.js';

export type ThreadRole = 'text-vae' | 'transformer';

/** Part settings that cross the thread boundary (no callbacks). */
export interface ThreadPartSettings {
  modelDir: string;
  executionProvider: ExecutionProviderChoice;
  intraOpThreads?: number;
  interOpThreads?: number;
  deviceId?: number;
  schedule?: ScheduleKind;
  stepDelayMs?: number;
  safetyChecker?: boolean;
  textCacheBytes?: number;
  maxTokens?: number;
}

export interface SerializedError {
  code?: string;
  message: string;
  params?: Record<string, string | number>;
}

/** Operation name → [argument, result]. */
export interface ThreadOps {
  open: [{ role: ThreadRole; settings: ThreadPartSettings }, PartReport];
  configure: [{ channels: number }, { vaeScale?: number }];
  encode: [{ prompt: string }, TextFeatures];
  /** `startedAt`: epoch ms when the thread started this job (queue wait excluded from the image's time). */
  denoise: [{ job: DenoiseJob; cancel: SharedArrayBuffer }, { latent: Float32Array; startedAt: number }];
  decode: [{ latent: Float32Array; width: number; height: number; cancel: SharedArrayBuffer }, Uint8Array];
  stats: [{ reset?: boolean }, StageStatsSnapshot];
  dispose: [Record<string, never>, null];
}
export type ThreadOp = keyof ThreadOps;

export type ToThread = { [K in ThreadOp]: { type: 'call'; id: number; op: K; arg: ThreadOps[K][0] } }[ThreadOp];

export type FromThread =
  | { type: 'done'; id: number; value: unknown }
  | { type: 'failed'; id: number; error: SerializedError }
  | { type: 'step'; id: number; step: number }
  | { type: 'warn'; message: string };

/** Wall-clock ms with sub-ms precision, comparable across threads. */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}
