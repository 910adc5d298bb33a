/**
 * `model:download`: the files the engine needs from a Hugging Face model repository (default webnn/Z-Image-Turbo
 * at a pinned commit) into a directory, verified. Metadata through @huggingface/hub (`modelInfo` resolves the
 * revision to a commit, `listFiles` gives sizes and LFS sha256); contents from the `resolve` URLs of that commit,
 * several files at once, each resumable (fetch-file.ts). Files already in place are verified and skipped; a
 * corrupted one is fetched again. Disk space is checked before any byte is fetched. The manifest is written last.
 */
import { listFiles, modelInfo, HubApiError } from '@huggingface/hub';
import { mkdir, rm, stat, statfs } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { downloadError, networkReason } from './errors.js';
import { fetchFile, partialPath } from './fetch-file.js';
import { selectFiles, type HubEntry, type WantedFile } from './hub-files.js';
import { writeManifest } from '../../src/model/manifest.js';
import type { ProgressSink } from './progress.js';
import { verifyFile } from './verify.js';

export const DEFAULT_REPO = 'webnn/Z-Image-Turbo';
/** The v2 export (Sept 2026) whose file list and sizes ZIMAGE_ONNX.md §0 records. */
export const DEFAULT_REVISION = '02e1d8cc5d10d9ff6c7ed1f54b173bd981381bc2';
export const DEFAULT_ENDPOINT = 'https://huggingface.co';
/** Kept free beyond the download itself. */
const DISK_MARGIN = 64 * 1024 * 1024;

export interface DownloadOptions {
  dir: string;
  repo?: string;
  revision?: string;
  /** HF_ENDPOINT (a mirror); default https://huggingface.co. */
  endpoint?: string;
  /** HF_TOKEN. */
  token?: string;
  safetyChecker?: boolean;
  /** Files fetched at once (default 4). */
  parallel?: number;
  retries?: number;
  checksumRetries?: number;
  backoffMs?: number;
  progress: ProgressSink;
  /** Free bytes at `path` (tests inject a small disk); default statfs. */
  freeSpace?: (path: string) => Promise<number>;
}

export interface DownloadResult {
  dir: string;
  repo: string;
  commit: string;
  files: Array<WantedFile & { status: 'verified' | 'downloaded' | 'refetched' }>;
  downloadedBytes: number;
}

async function statfsFree(path: string): Promise<number> {
  let p = resolve(path);
  for (;;) {
    try {
      const s = await statfs(p);
      return s.bavail * s.bsize;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(p) === p) throw err;
      p = dirname(p);
    }
  }
}

/** One line for a hub API failure (model-info / tree listing). */
function hubFailure(err: unknown, what: string, endpoint: string, hasToken: boolean): Error {
  if (err instanceof HubApiError) {
    if (err.statusCode === 401 || err.statusCode === 403) {
      return downloadError('DOWNLOAD_AUTH', `${what}: ${endpoint} answered ${err.statusCode} — ${hasToken
        ? 'HF_TOKEN is not accepted for this repository (check the token; for a gated model accept its terms on the model page)'
        : 'the repository needs a token: set HF_TOKEN to a read token (huggingface.co/settings/tokens)'}`, { status: err.statusCode });
    }
    if (err.statusCode === 404) {
      return downloadError('DOWNLOAD_NOT_FOUND', `${what}: not found on ${endpoint} (404) — check the repository name and revision (--repo, --revision / ZIMAGE_MODEL_REVISION)`, { status: 404 });
    }
    return downloadError('DOWNLOAD_FAILED', `${what}: ${endpoint} answered ${err.statusCode}: ${err.message.split('. URL:')[0]}`, { status: err.statusCode });
  }
  const net = networkReason(err);
  if (net) return downloadError('DOWNLOAD_UNREACHABLE', `cannot reach ${endpoint} (${net}) — check the network, a proxy, or HF_ENDPOINT (a mirror such as https://hf-mirror.com)`, { reason: net });
  return err as Error;
}

export async function downloadModel(o: DownloadOptions): Promise<DownloadResult> {
  const repo = o.repo ?? DEFAULT_REPO;
  const revision = o.revision ?? DEFAULT_REVISION;
  const endpoint = (o.endpoint ?? DEFAULT_ENDPOINT).replace(/\/+$/, '');
  const creds = o.token ? { accessToken: o.token } : {};
  const what = `${repo}@${revision}`;

  let commit: string;
  let entries: HubEntry[] = [];
  try {
    const info = await modelInfo({ name: repo, revision, hubUrl: endpoint, additionalFields: ['sha'], ...creds });
    commit = (info as { sha?: string }).sha ?? revision;
    for await (const e of listFiles({ repo: { type: 'model', name: repo }, revision: commit, recursive: true, hubUrl: endpoint, ...creds })) entries.push(e);
  } catch (err) {
    throw hubFailure(err, what, endpoint, Boolean(o.token));
  }
  const { files, missing } = selectFiles(entries, o.safetyChecker ?? false);
  entries = [];
  if (missing.length) {
    throw downloadError('DOWNLOAD_NOT_FOUND', `${what} has no ${missing.join(', ')} (404) — is this the v2 Z-Image-Turbo ONNX export? Check --repo / --revision`, { missing: missing.length });
  }

  // What is already in place (verified) and what must be fetched; partial files count as fetched bytes.
  await mkdir(o.dir, { recursive: true });
  const todo: Array<WantedFile & { refetch: boolean }> = [];
  const result: DownloadResult['files'] = [];
  let neededBytes = 0;
  let presentBytes = 0;
  for (const f of files) {
    const target = join(o.dir, f.path);
    const size = await stat(target).then((s) => s.size, () => undefined);
    if (size !== undefined && await verifyFile(target, f, size)) {
      result.push({ ...f, status: 'verified' });
      presentBytes += f.size;
      o.progress.fileDone(f.path, 'verified, already complete');
      continue;
    }
    if (size !== undefined) {
      o.progress.notice(`${f.path}: ${size === f.size ? 'checksum mismatch' : `size ${size} ≠ ${f.size}`} on disk — fetching it again`);
      await rm(target, { force: true });
    }
    const partial = await stat(partialPath(target, f)).then((s) => Math.min(s.size, f.size), () => 0);
    neededBytes += f.size - partial;
    todo.push({ ...f, refetch: size !== undefined });
  }
  const free = await (o.freeSpace ?? statfsFree)(o.dir);
  if (free < neededBytes + DISK_MARGIN) {
    throw downloadError('DOWNLOAD_NO_SPACE', `not enough disk space in ${o.dir}: ${formatGB(neededBytes + DISK_MARGIN)} needed, ${formatGB(free)} free — free space or choose another --dir`,
      { needed: neededBytes + DISK_MARGIN, free });
  }

  const total = files.reduce((n, f) => n + f.size, 0);
  o.progress.begin(total, presentBytes);
  let downloadedBytes = 0;
  const queue = [...todo].sort((a, b) => b.size - a.size);
  const worker = async (): Promise<void> => {
    for (let f = queue.shift(); f; f = queue.shift()) {
      const target = join(o.dir, f.path);
      await mkdir(dirname(target), { recursive: true });
      o.progress.fileStart(f.path, f.size);
      await fetchFile({
        url: `${endpoint}/${repo}/resolve/${encodeURIComponent(commit)}/${f.path.split('/').map(encodeURIComponent).join('/')}`,
        ...(o.token ? { token: o.token } : {}), target, file: f,
        retries: o.retries ?? 5, checksumRetries: o.checksumRetries ?? 2, backoffMs: o.backoffMs ?? 1000,
        onBytes: (d) => { downloadedBytes += d; o.progress.bytes(f.path, d); },
        onNotice: (m) => o.progress.notice(m),
      }).catch((err: unknown) => { queue.length = 0; throw err; }); // the other workers stop after their current file
      o.progress.fileDone(f.path, `${f.refetch ? 're-fetched' : 'downloaded'} and verified (${f.sha256 ? 'sha256' : f.gitOid ? 'git sha1' : 'size'})`);
      result.push({ path: f.path, size: f.size, ...(f.sha256 ? { sha256: f.sha256 } : {}), ...(f.gitOid ? { gitOid: f.gitOid } : {}), status: f.refetch ? 'refetched' : 'downloaded' });
    }
  };
  try {
    const workers = Array.from({ length: Math.max(1, Math.min(o.parallel ?? 4, todo.length || 1)) }, worker);
    const settled = await Promise.allSettled(workers);
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
  } finally {
    queue.length = 0;
    o.progress.end();
  }
  await writeManifest(o.dir, { repo, revision, commit, safetyChecker: o.safetyChecker ?? false, files });
  return { dir: o.dir, repo, commit, files: result, downloadedBytes };
}

function formatGB(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)} GB` : `${(bytes / 1e6).toFixed(1)} MB`;
}
