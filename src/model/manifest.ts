/**
 * `zimage-model.json`, written by `model:download` once every file is verified: where the model came from
 * (repo, revision, commit) and each file's size and digest. `findDownloadedModel` is what `npm start` and the
 * worker use to pick up `DATA_DIR/models/z-image-turbo` by themselves: the manifest must be there and every file
 * it lists present with its recorded size (a cheap check; `model:download` re-verifies digests). Pure file-system
 * code — no onnxruntime.
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const MANIFEST = 'zimage-model.json';

/** One file of the model as the hub describes it. */
export interface WantedFile {
  path: string;
  size: number;
  /** Content sha256 (LFS files). */
  sha256?: string;
  /** Git blob sha1 (files stored in git itself). */
  gitOid?: string;
}
/** Where `model:download` puts the model and where it is looked for, under DATA_DIR. */
export const DEFAULT_MODEL_SUBDIR = join('models', 'z-image-turbo');

export interface ModelManifest {
  tool: 'zimage-bot model:download';
  repo: string;
  revision: string;
  commit: string;
  safetyChecker: boolean;
  files: WantedFile[];
  verifiedAt: string;
}

export async function writeManifest(dir: string, m: Omit<ModelManifest, 'tool' | 'verifiedAt'>): Promise<void> {
  const full: ModelManifest = { tool: 'zimage-bot model:download', ...m, verifiedAt: new Date().toISOString() };
  await writeFile(join(dir, MANIFEST), JSON.stringify(full, null, 2) + '\n');
}

export async function readManifest(dir: string): Promise<ModelManifest | undefined> {
  try {
    const m = JSON.parse(await readFile(join(dir, MANIFEST), 'utf8')) as Partial<ModelManifest>;
    return m.tool === 'zimage-bot model:download' && Array.isArray(m.files) ? (m as ModelManifest) : undefined;
  } catch {
    return undefined;
  }
}

export interface DownloadedModel {
  dir: string;
  repo: string;
  commit: string;
  /** e.g. `webnn/Z-Image-Turbo@02e1d8c`. */
  label: string;
}

/** The downloaded model in `dir` when its manifest is there and every listed file has its recorded size. */
export async function findDownloadedModel(dir: string): Promise<DownloadedModel | undefined> {
  const m = await readManifest(dir);
  if (!m || m.files.length === 0) return undefined;
  for (const f of m.files) {
    const size = await stat(join(dir, f.path)).then((s) => s.size, () => -1);
    if (size !== f.size) return undefined;
  }
  return { dir, repo: m.repo, commit: m.commit, label: `${m.repo}@${m.commit.slice(0, 7)}` };
}

/** `dataDir/models/z-image-turbo` when it holds a verified download. */
export function findDefaultModel(dataDir: string): Promise<DownloadedModel | undefined> {
  return findDownloadedModel(join(dataDir, DEFAULT_MODEL_SUBDIR));
}
