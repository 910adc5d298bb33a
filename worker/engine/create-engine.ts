/**
 * Engine factory: the demo model (built on first use into `<dataDir>/models/demo`) when no model directory is
 * configured, else the given directory (the Z-Image-Turbo ONNX export, or a built demo model). Always a
 * ThreadedEngine (two engine threads). Demo pacing applies whenever the loaded directory holds the demo marker.
 */
import { ensureDemoModel } from './demo-model/build.js';
import type { Engine } from './engine.js';
import type { ScheduleKind } from './schedule.js';
import type { ExecutionProviderChoice } from './sessions.js';
import { ThreadedEngine } from './threaded-engine.js';

export interface CreateEngineOptions {
  /** Z-Image-Turbo ONNX export (v2 layout). Unset → the demo model. */
  modelDir?: string;
  dataDir: string;
  /** Pacing of the demo model between steps (also when modelDir points at a demo model; ignored for a real model). Default 0. */
  demoStepDelayMs?: number;
  /** Intra-op threads of the engine thread's sessions; 0/unset = onnxruntime default. */
  threads?: number;
  executionProvider?: ExecutionProviderChoice;
  /** Default 'reference' (8 real steps at --steps 8); 'webnn' = the ONNX helper's schedule. */
  schedule?: ScheduleKind;
  safetyChecker?: boolean;
  textCacheBytes?: number;
  onWarning?: (message: string) => void;
}

export function createEngine(o: CreateEngineOptions): ThreadedEngine & Engine {
  return new ThreadedEngine({
    modelDir: o.modelDir ?? (() => ensureDemoModel(o.dataDir)),
    executionProvider: o.executionProvider ?? 'cpu',
    ...(o.threads ? { intraOpThreads: o.threads } : {}),
    ...(o.demoStepDelayMs ? { demoStepDelayMs: o.demoStepDelayMs } : {}),
    ...(o.schedule ? { schedule: o.schedule } : {}),
    ...(o.safetyChecker !== undefined ? { safetyChecker: o.safetyChecker } : {}),
    ...(o.textCacheBytes !== undefined ? { textCacheBytes: o.textCacheBytes } : {}),
    ...(o.onWarning ? { onWarning: o.onWarning } : {}),
  });
}
