/** EngineInfo for a loaded model directory, and the request checks every engine applies before running. */
import { createHash } from 'node:crypto';
import { ZimageError } from '../../src/errors.js';
import { DEFAULT_MAX_TOKENS } from '../../src/model/prompt-tokenizer.js';
import { readDemoMarker } from './demo-model/build.js';
import { readReplicaMarker } from './demo-model/replica.js';
import type { EngineInfo, EngineRequest } from './engine.js';
import type { ModelDirReport } from './model-dir.js';
import { MAX_STEPS, MIN_STEPS } from './schedule.js';

/** Demo model (marker present), the full-size replica (its marker), or the real export; version = demo builder version, or a hash of file names + sizes. */
export async function engineInfo(report: ModelDirReport, maxTokens = DEFAULT_MAX_TOKENS): Promise<EngineInfo> {
  const marker = await readDemoMarker(report.dir);
  if (marker) return { id: 'zimage-demo', name: 'demo model', demo: true, version: `demo-v${marker.version}`, maxTokens };
  const replica = await readReplicaMarker(report.dir);
  if (replica) {
    const depth = `${replica.textLayers}+${replica.ditLayers} layers`;
    return { id: 'zimage-replica', name: `full-size replica, random weights (${depth})`, demo: false, version: `replica-${replica.textLayers}-${replica.ditLayers}-${replica.refiners}`, maxTokens };
  }
  const version = createHash('sha256').update(report.found.map((f) => `${f.path}:${f.bytes}`).join('\n')).digest('hex').slice(0, 12);
  return { id: 'z-image-turbo-onnx-v2', name: 'Z-Image-Turbo (ONNX q4f16)', demo: false, version, maxTokens };
}

export interface SizeRules {
  /** Width and height must be multiples of this (VAE scale × patch size 2). */
  sizeMultiple: number;
  maxSide: number;
}

/** Throws INVALID_REQUEST for sizes, steps or seeds this model cannot run. */
export function validateRequest(request: EngineRequest, rules: SizeRules): void {
  const { width, height, steps, seeds } = request;
  const m = rules.sizeMultiple;
  for (const [what, v] of [['width', width], ['height', height]] as const) {
    if (!Number.isInteger(v) || v < m || v > rules.maxSide || v % m !== 0) {
      throw new ZimageError('INVALID_REQUEST', `${what} must be a multiple of ${m} between ${m} and ${rules.maxSide}, got ${v}`, { [what]: v });
    }
  }
  if (!Number.isInteger(steps) || steps < MIN_STEPS || steps > MAX_STEPS) {
    throw new ZimageError('INVALID_REQUEST', `steps must be an integer in ${MIN_STEPS}..${MAX_STEPS}, got ${steps}`, { steps });
  }
  if (seeds.length === 0 || seeds.some((s) => !Number.isInteger(s) || s < 0 || s > 0xffffffff)) {
    throw new ZimageError('INVALID_REQUEST', 'seeds must be 1 or more integers in 0..4294967295', { count: seeds.length });
  }
  if (typeof request.prompt !== 'string' || request.prompt.trim() === '') {
    throw new ZimageError('INVALID_REQUEST', 'the prompt is empty');
  }
}
