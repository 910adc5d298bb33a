/**
 * `model:download` against a local fake hub (test/helpers/fake-hub.ts) holding a generated small model (the demo
 * model, its transformer split into two external-data shards, plus files the engine does not need): full
 * download, skip on a second run, resume after a cut, corrupted bytes, 401/403, 404, disk space, and the CLI with
 * HF_ENDPOINT (exit codes, single-line errors).
 */
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { isZimageError, type ZimageError } from '../../src/errors.js';
import { applyDefaultModel } from '../../src/model/default-model.js';
import { downloadModel, type DownloadOptions } from '../../worker/download/downloader.js';
import { DOWNLOAD_EXIT_CODES } from '../../worker/download/errors.js';
import { partialPath } from '../../worker/download/fetch-file.js';
import { findDownloadedModel, MANIFEST } from '../../src/model/manifest.js';
import type { ProgressSink } from '../../worker/download/progress.js';
import { writeDemoModel } from '../../worker/engine/demo-model/build.js';
import { inspectModelDir } from '../../worker/engine/model-dir.js';
import { MODEL_FILES } from '../../worker/engine/model-files.js';
import { FAKE_COMMIT, FakeHub } from '../helpers/fake-hub.js';
import { externalize } from '../helpers/model-edits.js';

const run = promisify(execFile);
const REPO = 'webnn/Z-Image-Turbo';
const SHARD0 = 'onnx/transformer_model_q4f16.onnx_data';
const SHARD1 = 'onnx/transformer_model_q4f16.onnx_data_1';
const NEEDED = [MODEL_FILES.tokenizerJson, MODEL_FILES.tokenizerConfig, MODEL_FILES.textEncoder, MODEL_FILES.transformer, SHARD0, SHARD1,
  MODEL_FILES.vaePreProcess, MODEL_FILES.vaeDecoder].sort();

let root: string;
let files: Map<string, Buffer>;
const hubs: FakeHub[] = [];

/** The demo model as the hub would hold it, the transformer's two weight tensors moved into shards. */
async function hubFiles(): Promise<Map<string, Buffer>> {
  const dir = join(root, 'source');
  await writeDemoModel(dir);
  const out = new Map<string, Buffer>();
  for (const rel of Object.values(MODEL_FILES)) out.set(rel, await readFile(join(dir, rel)));
  const { model, shards } = externalize(out.get(MODEL_FILES.transformer)!, [['w_colour', SHARD0.split('/')[1]!], ['w_gain', SHARD1.split('/')[1]!]]);
  out.set(MODEL_FILES.transformer, Buffer.from(model));
  for (const [name, bytes] of shards) out.set(`onnx/${name}`, bytes);
  out.set('README.md', Buffer.from('# Z-Image-Turbo (fake hub)\n'));
  out.set('onnx/text_encoder_model_fp32.onnx', Buffer.alloc(4096, 7)); // another variant: never fetched
  return out;
}

async function hub(over: Partial<ConstructorParameters<typeof FakeHub>[0]> = {}): Promise<FakeHub> {
  const h = new FakeHub({ repo: REPO, files, gitFiles: new Set([MODEL_FILES.tokenizerConfig, 'README.md']), ...over });
  await h.start();
  hubs.push(h);
  return h;
}

class Recorder implements ProgressSink {
  readonly notices: string[] = [];
  readonly done: string[] = [];
  bytes_ = 0;
  begin(): void {}
  fileStart(): void {}
  bytes(_p: string, d: number): void { this.bytes_ += d; }
  fileDone(path: string, note: string): void { this.done.push(`${path}: ${note}`); }
  notice(m: string): void { this.notices.push(m); }
  end(): void {}
}

let n = 0;
const target = (): string => join(root, `dl-${n++}`);
const opts = (h: FakeHub, dir: string, over: Partial<DownloadOptions> = {}): DownloadOptions =>
  ({ dir, endpoint: h.url, repo: REPO, revision: FAKE_COMMIT, progress: new Recorder(), backoffMs: 5, ...over });

async function rejection(p: Promise<unknown>): Promise<ZimageError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(isZimageError(err), `expected a ZimageError, got ${String(err)}`).toBe(true);
  return err as ZimageError;
}

async function listTree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1)).sort();
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'zimage-download-'));
  files = await hubFiles();
});
afterEach(async () => { while (hubs.length) await hubs.pop()!.stop(); });
afterAll(async () => { await rm(root, { recursive: true, force: true }); });

describe('model download from a hub', () => {
  it('fetches exactly the files the engine needs, verified, and writes the manifest', async () => {
    const h = await hub();
    const dir = target();
    const result = await downloadModel(opts(h, dir));
    expect(result.commit).toBe(FAKE_COMMIT);
    expect(result.files.map((f) => f.path).sort()).toEqual(NEEDED);
    expect(result.files.every((f) => f.status === 'downloaded')).toBe(true);
    expect(await listTree(dir)).toEqual([...NEEDED, MANIFEST].sort());
    for (const rel of NEEDED) expect((await readFile(join(dir, rel))).equals(files.get(rel)!), rel).toBe(true);
    expect(h.resolveRequests().every((r) => r.path.includes(`/resolve/${FAKE_COMMIT}/`))).toBe(true);
    expect((await inspectModelDir(dir)).problems).toEqual([]);
    expect(await findDownloadedModel(dir)).toMatchObject({ dir, repo: REPO, commit: FAKE_COMMIT, label: `${REPO}@c0ffee0` });
  });

  it('with the safety checker on, its graphs come too', async () => {
    const h = await hub();
    const result = await downloadModel(opts(h, target(), { safetyChecker: true }));
    expect(result.files.map((f) => f.path)).toEqual(expect.arrayContaining([MODEL_FILES.scPrep, MODEL_FILES.safetyChecker]));
  });

  it('a second run verifies and skips; a corrupted file is detected and fetched again', async () => {
    const h = await hub();
    const dir = target();
    await downloadModel(opts(h, dir));
    const before = h.resolveRequests().length;
    const again = await downloadModel(opts(h, dir));
    expect(again.files.every((f) => f.status === 'verified')).toBe(true);
    expect(h.resolveRequests().length).toBe(before);

    const bad = Buffer.from(files.get(MODEL_FILES.vaeDecoder)!);
    bad[100] = bad[100]! ^ 0x01; // same size, one bit flipped
    await writeFile(join(dir, MODEL_FILES.vaeDecoder), bad);
    expect(await findDownloadedModel(dir)).toBeDefined(); // start-up's size check cannot see it …
    const progress = new Recorder();
    const third = await downloadModel(opts(h, dir, { progress }));
    expect(third.files.find((f) => f.path === MODEL_FILES.vaeDecoder)!.status).toBe('refetched'); // … the download's digest check does
    expect(progress.notices.join('\n')).toContain(`${MODEL_FILES.vaeDecoder}: checksum mismatch on disk — fetching it again`);
    expect((await readFile(join(dir, MODEL_FILES.vaeDecoder))).equals(files.get(MODEL_FILES.vaeDecoder)!)).toBe(true);
    expect(h.resolveRequests().length).toBe(before + 1);
  });

  it('a connection cut mid-file resumes with a Range request', async () => {
    const h = await hub();
    h.cutAfter.set(MODEL_FILES.transformer, 50_000);
    const dir = target();
    const progress = new Recorder();
    await downloadModel(opts(h, dir, { progress }));
    const gets = h.resolveRequests().filter((r) => r.path.endsWith(MODEL_FILES.transformer));
    expect(gets.map((r) => r.range)).toEqual([undefined, 'bytes=50000-']);
    expect((await readFile(join(dir, MODEL_FILES.transformer))).equals(files.get(MODEL_FILES.transformer)!)).toBe(true);
    expect(progress.notices.some((m) => m.startsWith(`${MODEL_FILES.transformer}: `) && m.includes('resuming'))).toBe(true);
    expect(progress.bytes_).toBe(NEEDED.reduce((s, p) => s + files.get(p)!.length, 0));
  });

  it('a partial file left by an interrupted run is continued, not restarted', async () => {
    const h = await hub();
    const dir = target();
    const whole = files.get(MODEL_FILES.transformer)!;
    const file = { path: MODEL_FILES.transformer, size: whole.length, sha256: createHash('sha256').update(whole).digest('hex') };
    await mkdir(join(dir, 'onnx'), { recursive: true });
    await writeFile(partialPath(join(dir, file.path), file), whole.subarray(0, 70_000));
    await downloadModel(opts(h, dir));
    expect(h.resolveRequests().filter((r) => r.path.endsWith(MODEL_FILES.transformer)).map((r) => r.range)).toEqual(['bytes=70000-']);
    expect((await readFile(join(dir, MODEL_FILES.transformer))).equals(whole)).toBe(true);
  });

  it('corrupted bytes from the server are re-fetched; persistent corruption is DOWNLOAD_CHECKSUM', async () => {
    const h = await hub();
    h.corrupt.set(MODEL_FILES.textEncoder, 1);
    const progress = new Recorder();
    const dir = target();
    await downloadModel(opts(h, dir, { progress }));
    expect(progress.notices).toContain(`${MODEL_FILES.textEncoder}: checksum mismatch after download; fetching it again (1/2)`);
    expect((await readFile(join(dir, MODEL_FILES.textEncoder))).equals(files.get(MODEL_FILES.textEncoder)!)).toBe(true);

    h.corrupt.set(MODEL_FILES.vaeDecoder, 99);
    const err = await rejection(downloadModel(opts(h, target(), { checksumRetries: 1 })));
    expect(err.code).toBe('DOWNLOAD_CHECKSUM');
    expect(err.message).toMatch(/^onnx\/vae_decoder_model_f16\.onnx: content does not match the hub's sha256 [0-9a-f]{64} after 2 downloads/);
    expect(err.message).not.toContain('\n');
  });

  it('401 without a token, 403 with a wrong one: DOWNLOAD_AUTH naming HF_TOKEN; the right token works', async () => {
    const h = await hub({ token: 'hf_right' });
    const none = await rejection(downloadModel(opts(h, target())));
    expect(none.code).toBe('DOWNLOAD_AUTH');
    expect(none.message).toContain('answered 401');
    expect(none.message).toContain('set HF_TOKEN');
    const wrong = await rejection(downloadModel(opts(h, target(), { token: 'hf_wrong' })));
    expect(wrong.code).toBe('DOWNLOAD_AUTH');
    expect(wrong.message).toContain('answered 403 — HF_TOKEN is not accepted');
    await downloadModel(opts(h, target(), { token: 'hf_right' }));
    expect(h.resolveRequests().every((r) => r.auth === 'Bearer hf_right')).toBe(true);
  });

  it('404: an unknown revision, and a repository without a needed file', async () => {
    const h = await hub();
    const rev = await rejection(downloadModel(opts(h, target(), { revision: 'no-such-branch' })));
    expect(rev.code).toBe('DOWNLOAD_NOT_FOUND');
    expect(rev.message).toBe(`${REPO}@no-such-branch: not found on ${h.url} (404) — check the repository name and revision (--repo, --revision / ZIMAGE_MODEL_REVISION)`);
    const partial = new Map(files);
    partial.delete(MODEL_FILES.vaeDecoder);
    const h2 = await hub({ files: partial });
    const missing = await rejection(downloadModel(opts(h2, target())));
    expect(missing.code).toBe('DOWNLOAD_NOT_FOUND');
    expect(missing.message).toContain(`has no ${MODEL_FILES.vaeDecoder} (404)`);
    expect(h2.resolveRequests()).toEqual([]);
  });

  it('not enough disk space: refused before any byte, with the figure needed', async () => {
    const h = await hub();
    const err = await rejection(downloadModel(opts(h, target(), { freeSpace: async () => 10_000_000 })));
    expect(err.code).toBe('DOWNLOAD_NO_SPACE');
    const needed = NEEDED.reduce((s, p) => s + files.get(p)!.length, 0) + 64 * 1024 * 1024;
    expect(err.message).toContain(`${(needed / 1e6).toFixed(1)} MB needed, 10.0 MB free`);
    expect(err.params.needed).toBe(needed);
    expect(h.resolveRequests()).toEqual([]);
  });
});

describe('npm run model:download (CLI, dist/)', () => {
  const cli = async (env: Record<string, string>, args: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> => {
    try {
      const r = await run(process.execPath, ['dist/worker/cli/model-download.js', ...args], { env: { PATH: process.env.PATH!, ...env }, timeout: 60_000 });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  it('honours HF_ENDPOINT, logs plain lines when not on a terminal, and prints the line to use it', async () => {
    const h = await hub();
    const dataDir = join(root, 'cli-data');
    const r = await cli({ HF_ENDPOINT: h.url, DATA_DIR: dataDir, ZIMAGE_MODEL_REVISION: FAKE_COMMIT });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`model:download ${REPO}@${FAKE_COMMIT} from ${h.url} into ${join(dataDir, 'models', 'z-image-turbo')}`);
    expect(r.stderr).toContain(`${MODEL_FILES.vaeDecoder}: downloaded and verified (sha256)`);
    expect(r.stderr).toContain(`${MODEL_FILES.tokenizerConfig}: downloaded and verified (git sha1)`);
    expect(r.stdout).toMatch(/model ready in .*models\/z-image-turbo: `npm start` uses it by itself/);
    expect(h.requests.length).toBeGreaterThan(NEEDED.length);
    expect(await findDownloadedModel(join(dataDir, 'models', 'z-image-turbo'))).toBeDefined();
  });

  it('npm start picks the verified download up by itself and names it in its start line', async () => {
    const dataDir = join(root, 'cli-data'); // downloaded by the test above
    const modelDir = join(dataDir, 'models', 'z-image-turbo');
    const chosen = await applyDefaultModel(loadConfig({ DATA_DIR: dataDir }));
    expect(chosen.config.env.ZIMAGE_MODEL_DIR).toBe(modelDir);
    expect(chosen.origin).toMatch(/^webnn\/Z-Image-Turbo@c0ffee0 in .*models\/z-image-turbo$/);
    const explicit = await applyDefaultModel(loadConfig({ DATA_DIR: dataDir, ZIMAGE_MODEL_DIR: '/elsewhere' }));
    expect(explicit).toMatchObject({ origin: 'ZIMAGE_MODEL_DIR=/elsewhere', config: { env: { ZIMAGE_MODEL_DIR: '/elsewhere' } } });
    expect((await applyDefaultModel(loadConfig({ DATA_DIR: join(root, 'no-download') }))).origin).toBeUndefined();

    const child = spawn(process.execPath, ['dist/src/main/start.js'], {
      env: { PATH: process.env.PATH!, DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => { out += d.toString(); const m = /zimage-bot ready.*\n/.exec(out); if (m) resolve(m[0]); });
        child.on('exit', (code) => reject(new Error(`npm start exited ${code}: ${out}`)));
        setTimeout(() => reject(new Error(`no start line within 40 s: ${out}`)), 40_000);
      });
      expect(line).toMatch(/\(model: Z-Image-Turbo \(ONNX q4f16\) — webnn\/Z-Image-Turbo@c0ffee0 in .*models\/z-image-turbo, private redis\)/);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }

    await rm(join(modelDir, MODEL_FILES.vaeDecoder));
    expect((await applyDefaultModel(loadConfig({ DATA_DIR: dataDir }))).origin).toBeUndefined(); // incomplete: not picked
  });

  it('exit codes: 3 unreachable, 5 not found, each with one error line', async () => {
    const h = await hub();
    const dead = h.url;
    await hubs.pop()!.stop();
    const unreachable = await cli({ HF_ENDPOINT: dead, DATA_DIR: join(root, 'cli-dead') });
    expect(unreachable.code).toBe(DOWNLOAD_EXIT_CODES.DOWNLOAD_UNREACHABLE);
    expect(unreachable.stderr.trim().split('\n').at(-1)).toMatch(/^error \[DOWNLOAD_UNREACHABLE\]: cannot reach http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
    const h2 = await hub();
    const notFound = await cli({ HF_ENDPOINT: h2.url, DATA_DIR: join(root, 'cli-404') }, ['--repo', 'webnn/nothing-here']);
    expect(notFound.code).toBe(DOWNLOAD_EXIT_CODES.DOWNLOAD_NOT_FOUND);
    expect(notFound.stderr.trim().split('\n').at(-1)).toMatch(/^error \[DOWNLOAD_NOT_FOUND\]: webnn\/nothing-here@02e1d8cc5d10d9ff6c7ed1f54b173bd981381bc2: not found/);
  });
});
