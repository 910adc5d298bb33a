/**
 * Which files of the hub repository the engine needs, with what to verify them against. The hub's tree listing
 * (`/api/models/{repo}/tree/{rev}?recursive=true`, @huggingface/hub `listFiles`) gives per file `size`, the git
 * blob `oid` (sha1) and for LFS files `lfs: { oid: <sha256>, size }`; LFS content is checked by sha256, plain git
 * files by their blob sha1. Pure: no I/O.
 */
import { MODEL_FILES, REQUIRED_FILES, SAFETY_FILES, type ModelFileKey } from '../engine/model-files.js';
import type { WantedFile } from '../../src/model/manifest.js';

export interface HubEntry {
  type: string;
  path: string;
  size: number;
  oid?: string;
  lfs?: { oid: string; size: number };
}

export type { WantedFile } from '../../src/model/manifest.js';

/** Graphs, their `.onnx_data[_k]` shards, and the tokenizer files; the safety checker's only when asked. */
export function selectFiles(entries: readonly HubEntry[], safetyChecker: boolean): { files: WantedFile[]; missing: string[] } {
  const keys: ModelFileKey[] = [...REQUIRED_FILES, 'tokenizerConfig', ...(safetyChecker ? SAFETY_FILES : [])];
  const byPath = new Map(entries.filter((e) => e.type === 'file').map((e) => [e.path, e]));
  const files: WantedFile[] = [];
  const missing: string[] = [];
  const want = (e: HubEntry): void => {
    files.push({ path: e.path, size: e.lfs?.size ?? e.size, ...(e.lfs ? { sha256: e.lfs.oid } : e.oid ? { gitOid: e.oid } : {}) });
  };
  for (const key of keys) {
    const path = MODEL_FILES[key];
    const entry = byPath.get(path);
    if (!entry) {
      if (key !== 'tokenizerConfig') missing.push(path);
      continue;
    }
    want(entry);
    if (!path.endsWith('.onnx')) continue;
    const shard = new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}_data(_\\d+)?$`);
    for (const e of [...byPath.values()].filter((x) => shard.test(x.path)).sort((a, b) => a.path.localeCompare(b.path))) want(e);
  }
  return { files, missing };
}
