/**
 * One file from a hub `resolve` URL into place: bytes go to a hidden partial file next to the target (named by
 * the expected digest, so a partial of another version is never resumed), a transfer cut in the middle
 * continues with `Range: bytes=<have>-`, the content is hashed as it arrives (bytes already on disk first), and
 * only a file of the right size and digest is renamed into place. A wrong digest discards the partial and
 * fetches the file again, up to `checksumRetries` times.
 */
import { open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Hash } from 'node:crypto';
import { downloadError, networkReason } from './errors.js';
import type { WantedFile } from './hub-files.js';
import { expectedDigest, hashFile, newHash } from './verify.js';

export interface FetchFileOptions {
  url: string;
  token?: string;
  target: string;
  file: WantedFile;
  /** Reconnects after network failures / 5xx, per attempt. */
  retries: number;
  checksumRetries: number;
  backoffMs: number;
  /** Bytes gained (or, after a restart, lost: negative). */
  onBytes: (delta: number) => void;
  onNotice?: (message: string) => void;
  fetch?: typeof fetch;
}

export function partialPath(target: string, file: WantedFile): string {
  return join(dirname(target), `.${basename(target)}.${(expectedDigest(file) ?? 'nodigest').slice(0, 12)}.part`);
}

class Retryable extends Error {}

async function sizeOf(path: string): Promise<number> {
  return stat(path).then((s) => s.size, () => 0);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function fetchFile(o: FetchFileOptions): Promise<void> {
  const { file } = o;
  const part = partialPath(o.target, file);
  const want = expectedDigest(file);
  for (let attempt = 0; attempt <= o.checksumRetries; attempt++) {
    let have = await sizeOf(part);
    if (have > file.size) { await rm(part, { force: true }); have = 0; }
    let hash: Hash = newHash(file);
    await hashFile(part, hash, have);
    o.onBytes(have);
    let failures = 0;
    while (have < file.size) {
      try {
        const res = await (o.fetch ?? fetch)(o.url, {
          headers: { ...(o.token ? { Authorization: `Bearer ${o.token}` } : {}), ...(have > 0 ? { Range: `bytes=${have}-` } : {}) },
        });
        if (res.status === 401 || res.status === 403) {
          throw downloadError('DOWNLOAD_AUTH', `${file.path}: the hub answered ${res.status} — ${o.token ? 'HF_TOKEN is not accepted for this repository (check the token, and accept the model\'s terms on its page if it is gated)' : 'set HF_TOKEN to a read token that can access this repository'}`, { status: res.status });
        }
        if (res.status === 404) throw downloadError('DOWNLOAD_NOT_FOUND', `${file.path}: not found at ${o.url} (404)`, { status: 404 });
        if (res.status === 416 || (res.status === 200 && have > 0) || (res.status === 206 && !contentRangeStartsAt(res, have))) {
          // The server cannot continue this partial: start the file over.
          await res.body?.cancel();
          await rm(part, { force: true });
          o.onBytes(-have);
          have = 0;
          hash = newHash(file);
          if (res.status === 416) continue;
          throw new Retryable('the server ignored the range request; starting the file over');
        }
        if (!res.ok || !res.body) throw new Retryable(`HTTP ${res.status}`);
        const fh = await open(part, have > 0 ? 'a' : 'w');
        try {
          for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
            await fh.write(chunk);
            hash.update(chunk);
            have += chunk.byteLength;
            o.onBytes(chunk.byteLength);
          }
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOSPC') {
            throw downloadError('DOWNLOAD_NO_SPACE', `${file.path}: the disk filled up while writing ${dirname(o.target)} (ENOSPC); free space and run again — the download resumes`, {});
          }
          throw err;
        } finally {
          await fh.close();
        }
        if (have < file.size) throw new Retryable(`connection closed after ${have} of ${file.size} bytes`);
      } catch (err) {
        const retryable = err instanceof Retryable || networkReason(err) !== undefined || (err instanceof TypeError && /terminated/i.test(err.message));
        if (!retryable) throw err;
        failures++;
        const why = err instanceof Retryable ? err.message : networkReason(err) ?? (err as Error).message;
        if (failures > o.retries) {
          throw downloadError('DOWNLOAD_UNREACHABLE', `${file.path}: transfer failed ${failures} times (last: ${why}); run again to resume from ${have} bytes`, { bytes: have });
        }
        o.onNotice?.(`${file.path}: ${why} — resuming (retry ${failures}/${o.retries})`);
        await sleep(o.backoffMs * 2 ** (failures - 1));
        const onDisk = await sizeOf(part);
        if (onDisk !== have) {
          // A write failed part-way: hash what is on disk again so the running hash matches the partial file.
          hash = newHash(file);
          await hashFile(part, hash, onDisk);
          o.onBytes(onDisk - have);
          have = onDisk;
        }
      }
    }
    if (!want || hash.digest('hex') === want) {
      await rename(part, o.target);
      return;
    }
    await rm(part, { force: true });
    o.onBytes(-file.size);
    if (attempt < o.checksumRetries) o.onNotice?.(`${file.path}: checksum mismatch after download; fetching it again (${attempt + 1}/${o.checksumRetries})`);
  }
  throw downloadError('DOWNLOAD_CHECKSUM', `${file.path}: content does not match the hub's ${file.sha256 ? 'sha256' : 'git sha1'} ${want} after ${o.checksumRetries + 1} downloads — the mirror (HF_ENDPOINT) may serve different bytes`, { file: file.path });
}

function contentRangeStartsAt(res: Response, start: number): boolean {
  const m = /^bytes (\d+)-/.exec(res.headers.get('content-range') ?? '');
  return m !== null && Number(m[1]) === start;
}
