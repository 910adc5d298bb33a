/**
 * Messages between ThreadedEngine (caller's thread) and thread-entry (the engine thread). Structured-clone
 * safe; RGB buffers are transferred, not copied. Cancellation uses a SharedArrayBuffer flag per generation so
 * the engine thread sees it between steps even while its event loop is busy.
 */
import type { EngineImage, EngineInfo, EngineRequest } from './engine.js';
import type { ScheduleKind } from './schedule.js';
import type { ExecutionProviderChoice } from './sessions.js';

/** Pipeline settings that cross the thread boundary (no callbacks). */
export interface ThreadPipelineSettings {
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
  maxSide?: number;
}

export interface SerializedError {
  code?: string;
  message: string;
  params?: Record<string, string | number>;
}

export type ToThread =
  | { type: 'load'; settings: ThreadPipelineSettings }
  | { type: 'generate'; id: number; request: EngineRequest; cancel: SharedArrayBuffer }
  | { type: 'dispose' };

export type FromThread =
  | { type: 'loaded'; info: EngineInfo; provider: string }
  | { type: 'load-failed'; error: SerializedError }
  | { type: 'step'; id: number; image: number; step: number; steps: number }
  | { type: 'result'; id: number; images: EngineImage[] }
  | { type: 'failed'; id: number; error: SerializedError }
  | { type: 'warn'; message: string }
  | { type: 'disposed' };
