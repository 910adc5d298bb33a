/**
 * Which model a process runs when ZIMAGE_MODEL_DIR is not set: the verified download in
 * DATA_DIR/models/z-image-turbo when there is one (`npm run model:download`), else the demo model. Returns the
 * configuration to use (ZIMAGE_MODEL_DIR filled in, so the bot's tokenizer and the worker's engine agree) and
 * how to name the model's origin in the start line. No onnxruntime here.
 */
import { relative } from 'node:path';
import type { Config } from '../config.js';
import { findDefaultModel } from './manifest.js';

export interface ModelChoice {
  config: Config;
  /** e.g. `webnn/Z-Image-Turbo@02e1d8c in data/models/z-image-turbo`, `ZIMAGE_MODEL_DIR`, or undefined (demo). */
  origin?: string;
}

export async function applyDefaultModel(config: Config): Promise<ModelChoice> {
  if (config.env.ZIMAGE_MODEL_DIR) return { config, origin: `ZIMAGE_MODEL_DIR=${config.env.ZIMAGE_MODEL_DIR}` };
  const found = await findDefaultModel(config.dataDir);
  if (!found) return { config };
  const env = Object.freeze({ ...config.env, ZIMAGE_MODEL_DIR: found.dir });
  const rel = relative(process.cwd(), found.dir);
  return { config: { ...config, env }, origin: `${found.label} in ${rel === '' ? '.' : rel.startsWith('..') ? found.dir : rel}` };
}
