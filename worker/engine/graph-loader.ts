/**
 * Opens a model directory's ONNX graphs as sessions (by file path, so external-data shards resolve) and checks
 * each against the v2 contract. Problems are collected, never thrown one by one, so the caller can report
 * everything that is wrong in one MODEL_INVALID message.
 */
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { ZimageError } from '../../src/errors.js';
import { checkGraph, type PortMetadata } from './contract.js';
import { listModelDir } from './model-dir.js';
import { MODEL_FILES, REQUIRED_FILES, SAFETY_FILES, type ModelFileKey } from './model-files.js';
import { createSession, ort, type SessionSettings } from './sessions.js';

export type Sessions = Partial<Record<ModelFileKey, ort.InferenceSession>>;
export type GraphMeta = Partial<Record<ModelFileKey, { inputs: PortMetadata[]; outputs: PortMetadata[] }>>;

export interface OpenedGraphs {
  sessions: Sessions;
  meta: GraphMeta;
  problems: string[];
  provider: 'cpu' | 'cuda';
}

function metadata(s: ort.InferenceSession): { inputs: PortMetadata[]; outputs: PortMetadata[] } {
  const conv = (m: ort.InferenceSession.ValueMetadata): PortMetadata =>
    m.isTensor ? { name: m.name, isTensor: true, type: m.type, shape: [...m.shape] } : { name: m.name, isTensor: false };
  return { inputs: s.inputMetadata.map(conv), outputs: s.outputMetadata.map(conv) };
}

/**
 * Opens `keys` and checks them. `optional` graphs are checked when present and released right away (e.g. the
 * scheduler_step helper, which the pipeline does not need). A ZimageError from session creation (EP unavailable)
 * is thrown after releasing what was opened.
 */
export async function openGraphs(dir: string, keys: readonly ModelFileKey[], settings: SessionSettings,
  optional: readonly ModelFileKey[] = []): Promise<OpenedGraphs> {
  const opened: OpenedGraphs = { sessions: {}, meta: {}, problems: [], provider: 'cpu' };
  const open = async (key: ModelFileKey, keep: boolean): Promise<void> => {
    const file = MODEL_FILES[key];
    let session: ort.InferenceSession;
    try {
      const created = await createSession(join(dir, file), settings);
      session = created.session;
      opened.provider = created.provider;
    } catch (err) {
      if (err instanceof ZimageError) { await releaseGraphs(opened.sessions); throw err; }
      opened.problems.push(`${file}: onnxruntime cannot load it: ${(err as Error).message.split('\n')[0]}`);
      return;
    }
    const meta = metadata(session);
    opened.meta[key] = meta;
    opened.problems.push(...checkGraph(key, file, meta.inputs, meta.outputs));
    if (keep) opened.sessions[key] = session;
    else await session.release();
  };
  for (const key of keys) await open(key, true);
  for (const key of optional) {
    const present = await access(join(dir, MODEL_FILES[key])).then(() => true, () => false);
    if (present) await open(key, false);
  }
  return opened;
}

export async function releaseGraphs(sessions: Sessions): Promise<void> {
  await Promise.all(Object.values(sessions).map((s) => s.release().catch(() => undefined)));
  for (const k of Object.keys(sessions) as ModelFileKey[]) delete sessions[k];
}

/** The one error for an unusable model directory: every problem, what is expected, what was found. */
export async function modelInvalid(dir: string, problems: string[], safetyChecker = false): Promise<ZimageError> {
  const expected = [...REQUIRED_FILES, ...(safetyChecker ? SAFETY_FILES : [])].map((k) => MODEL_FILES[k]).join(', ');
  return new ZimageError('MODEL_INVALID',
    `model directory ${dir} does not hold a usable Z-Image-Turbo ONNX export (v2 layout):\n  - ${problems.join('\n  - ')}\n` +
    `expected: ${expected} (+ their .onnx_data shards)\nfound: ${await listModelDir(dir)}`,
    { dir, problems: problems.length });
}
