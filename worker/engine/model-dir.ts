/**
 * Inspection of a model directory before any session is created: which files of the v2 layout exist, and which
 * external-data shards each graph references (found by scanning the .onnx bytes for `<name>.onnx_data[_k]`
 * location strings — no protobuf parse of 130 MB graphs) and whether they exist. Pure file-system code.
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { MODEL_FILES, REQUIRED_FILES, SAFETY_FILES, type ModelFileKey } from './model-files.js';

export interface ModelDirReport {
  dir: string;
  /** Files (and shards) found, relative to dir, with sizes. */
  found: Array<{ path: string; bytes: number }>;
  /** Problems: missing files, missing shards. Empty when the directory is usable. */
  problems: string[];
}

async function size(path: string): Promise<number | undefined> {
  try {
    const s = await stat(path);
    return s.isFile() ? s.size : undefined;
  } catch {
    return undefined;
  }
}

/** External-data files referenced by an .onnx file (its own `<file>_data*` shards). */
export async function referencedShards(onnxPath: string): Promise<string[]> {
  const name = basename(onnxPath);
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`${escaped}_data(?:_\\d+)?`, 'g');
  const found = new Set<string>();
  const keep = name.length + 24; // bytes carried over so a location string cut by a chunk edge is seen whole
  let tail = '';
  const scan = (text: string, final: boolean): void => {
    for (const m of text.matchAll(re)) {
      if (final || m.index + m[0].length < text.length - 12) found.add(m[0]);
    }
  };
  for await (const chunk of createReadStream(onnxPath, { highWaterMark: 4 << 20 })) {
    const text = tail + (chunk as Buffer).toString('latin1');
    scan(text, false);
    tail = text.slice(-keep);
  }
  scan(tail, true);
  return [...found].sort();
}

/** Lists the directory's model files and checks required files and referenced shards. */
export async function inspectModelDir(dir: string, opts: { safetyChecker?: boolean } = {}): Promise<ModelDirReport> {
  const found: ModelDirReport['found'] = [];
  const problems: string[] = [];
  const keys: ModelFileKey[] = [...REQUIRED_FILES, 'tokenizerConfig', 'schedulerStep', ...SAFETY_FILES];
  for (const key of keys) {
    const rel = MODEL_FILES[key];
    const bytes = await size(join(dir, rel));
    if (bytes !== undefined) found.push({ path: rel, bytes });
    const required = REQUIRED_FILES.includes(key) || (opts.safetyChecker === true && SAFETY_FILES.includes(key));
    if (bytes === undefined) {
      if (required) problems.push(`missing ${rel}`);
      continue;
    }
    if (!rel.endsWith('.onnx')) continue;
    for (const shard of await referencedShards(join(dir, rel))) {
      const shardRel = join(dirname(rel), shard);
      const shardBytes = await size(join(dir, shardRel));
      if (shardBytes === undefined) problems.push(`missing external-data shard ${shardRel} (referenced by ${rel})`);
      else found.push({ path: shardRel, bytes: shardBytes });
    }
  }
  return { dir, found, problems };
}

/** Short listing of what is in `<dir>` and `<dir>/onnx`, for error messages. */
export async function listModelDir(dir: string): Promise<string> {
  const list = async (d: string): Promise<string[]> => {
    try {
      return (await readdir(join(dir, d))).sort().map((f) => (d ? `${d}/${f}` : f));
    } catch {
      return [];
    }
  };
  const entries = [...(await list('')), ...(await list('onnx')), ...(await list('tokenizer'))];
  return entries.length > 0 ? entries.join(', ') : '(empty or not a directory)';
}
