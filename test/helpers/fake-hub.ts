/**
 * A local stand-in for the Hugging Face hub's HTTP API, enough for @huggingface/hub and our downloader:
 * - GET /api/models/{owner}/{name}/revision/{rev}  → model info with `sha`;
 * - GET /api/models/{owner}/{name}/tree/{rev}?recursive=true → entries { type, oid, size, path, lfs? } (LFS files carry
 *   lfs.oid = sha256 of the content, lfs.size, lfs.pointerSize; the git oid of an LFS file is its pointer's sha1);
 * - GET /{owner}/{name}/resolve/{rev}/{path} → the bytes, with ETag, Content-Length, Accept-Ranges, X-Repo-Commit,
 *   Range → 206 + Content-Range.
 * Faults to inject: a token requirement, a connection cut mid-file, corrupted bytes. Every request is recorded.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const FAKE_COMMIT = 'c0ffee0123456789abcdef0123456789abcdef01';

export interface HubRequest { method: string; path: string; range?: string; auth?: string }

export interface FakeHubOptions {
  repo: string;
  files: Map<string, Buffer>;
  /** Paths stored in git itself (not LFS). */
  gitFiles?: Set<string>;
  token?: string;
}

export class FakeHub {
  readonly requests: HubRequest[] = [];
  /** path → bytes after which the next transfer of it is cut (one-shot). */
  readonly cutAfter = new Map<string, number>();
  /** path → how many more transfers of it serve corrupted bytes. */
  readonly corrupt = new Map<string, number>();
  private server!: Server;

  constructor(private readonly o: FakeHubOptions) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return this.url;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  resolveRequests(): HubRequest[] {
    return this.requests.filter((r) => r.path.includes('/resolve/'));
  }

  private isLfs(path: string): boolean {
    return !this.o.gitFiles?.has(path);
  }

  private entries(): object[] {
    const dirs = new Set<string>();
    const files = [...this.o.files].map(([path, bytes]) => {
      path.split('/').slice(0, -1).forEach((_, i, parts) => dirs.add(parts.slice(0, i + 1).join('/')));
      if (!this.isLfs(path)) {
        return { type: 'file', path, size: bytes.length, oid: createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex') };
      }
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      const pointer = `version https://git-lfs.github.com/spec/v1\noid sha256:${sha256}\nsize ${bytes.length}\n`;
      return {
        type: 'file', path, size: bytes.length, oid: createHash('sha1').update(`blob ${pointer.length}\0${pointer}`).digest('hex'),
        lfs: { oid: sha256, size: bytes.length, pointerSize: pointer.length },
      };
    });
    return [...[...dirs].map((path) => ({ type: 'directory', path, size: 0, oid: createHash('sha1').update(path).digest('hex') })), ...files];
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    this.requests.push({ method: req.method ?? 'GET', path: url.pathname, ...(req.headers.range ? { range: req.headers.range } : {}),
      ...(req.headers.authorization ? { auth: req.headers.authorization } : {}) });
    const json = (status: number, body: unknown, extra: Record<string, string> = {}): void => {
      res.writeHead(status, { 'Content-Type': 'application/json', ...extra }).end(JSON.stringify(body));
    };
    if (this.o.token && req.headers.authorization !== `Bearer ${this.o.token}`) {
      json(req.headers.authorization ? 403 : 401, { error: req.headers.authorization ? 'Invalid credentials' : 'Access to this repository requires a token' });
      return;
    }
    const repo = this.o.repo;
    const revOk = (rev: string): boolean => rev === FAKE_COMMIT || rev === 'main';
    const api = new RegExp(`^/api/models/${repo}/(revision|tree)/([^/]+)`).exec(url.pathname);
    if (api) {
      const rev = decodeURIComponent(api[2]!);
      if (!revOk(rev)) { json(404, { error: `Invalid rev id: ${rev}` }, { 'X-Error-Code': 'RevisionNotFound' }); return; }
      if (api[1] === 'revision') {
        json(200, { _id: 'fake0001', id: repo, sha: FAKE_COMMIT, private: false, gated: false, downloads: 1, likes: 0, lastModified: '2026-09-10T00:00:00.000Z',
          siblings: [...this.o.files.keys()].map((rfilename) => ({ rfilename })) });
      } else {
        json(200, this.entries());
      }
      return;
    }
    const file = new RegExp(`^/${repo}/resolve/([^/]+)/(.+)$`).exec(url.pathname);
    if (!file) { json(404, { error: 'Repository not found' }, { 'X-Error-Code': 'RepoNotFound' }); return; }
    const path = decodeURIComponent(file[2]!);
    const bytes = this.o.files.get(path);
    if (!revOk(decodeURIComponent(file[1]!)) || !bytes) { json(404, { error: 'Entry not found' }, { 'X-Error-Code': 'EntryNotFound' }); return; }
    this.serveFile(req, res, path, bytes);
  }

  private serveFile(req: IncomingMessage, res: ServerResponse, path: string, bytes: Buffer): void {
    let body = bytes;
    const left = this.corrupt.get(path) ?? 0;
    if (left > 0) {
      this.corrupt.set(path, left - 1);
      body = Buffer.from(bytes);
      body[Math.floor(body.length / 2)] = body[Math.floor(body.length / 2)]! ^ 0xff;
    }
    const etag = `"${this.isLfs(path) ? createHash('sha256').update(bytes).digest('hex') : createHash('sha1').update(bytes).digest('hex')}"`;
    const headers: Record<string, string | number> = { ETag: etag, 'Accept-Ranges': 'bytes', 'X-Repo-Commit': FAKE_COMMIT, 'Content-Type': 'application/octet-stream' };
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    let start = 0;
    let end = body.length - 1;
    let status = 200;
    if (m) {
      start = Number(m[1]);
      end = m[2] ? Math.min(Number(m[2]), end) : end;
      if (start > end) { res.writeHead(416, { 'Content-Range': `bytes */${body.length}` }).end(); return; }
      status = 206;
      headers['Content-Range'] = `bytes ${start}-${end}/${body.length}`;
    }
    const slice = body.subarray(start, end + 1);
    headers['Content-Length'] = slice.length;
    res.writeHead(status, headers);
    const cut = this.cutAfter.get(path);
    if (cut !== undefined && cut < slice.length) {
      this.cutAfter.delete(path);
      res.write(slice.subarray(0, cut), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    res.end(slice);
  }
}
