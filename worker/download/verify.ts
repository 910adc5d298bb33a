/** Content checks: sha256 (LFS oid) or git blob sha1, streamed from disk; a running hash for partial files. */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { WantedFile } from './hub-files.js';

/** The hash the file is checked against, primed like git does for blobs. */
export function newHash(file: WantedFile): Hash {
  if (file.sha256) return createHash('sha256');
  const h = createHash('sha1');
  if (file.gitOid) h.update(`blob ${file.size}\0`);
  return h;
}

export function expectedDigest(file: WantedFile): string | undefined {
  return (file.sha256 ?? file.gitOid)?.toLowerCase();
}

/** Feeds the first `bytes` bytes of `path` (all when undefined) into `hash`. */
export async function hashFile(path: string, hash: Hash, bytes?: number): Promise<void> {
  if (bytes === 0) return;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20, ...(bytes !== undefined ? { end: bytes - 1 } : {}) })) hash.update(chunk as Buffer);
}

/** True when `path` has the expected size and digest (a file with no known digest is checked by size only). */
export async function verifyFile(path: string, file: WantedFile, size: number): Promise<boolean> {
  if (size !== file.size) return false;
  const want = expectedDigest(file);
  if (!want) return true;
  const h = newHash(file);
  await hashFile(path, h);
  return h.digest('hex') === want;
}
