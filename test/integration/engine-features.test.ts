/**
 * Engine features on real onnxruntime-node with the demo model: safety checker, text-feature cache, execution
 * provider choice, stage overlap across concurrent requests, and the v2 scheduler_step helper graph.
 */
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isZimageError, type ZimageError } from '../../src/errors.js';
import { createEngine } from '../../worker/engine/create-engine.js';
import { DEMO_MARKER, DEMO_MODEL_VERSION, ensureDemoModel } from '../../worker/engine/demo-model/build.js';
import { safetyCheckerGraph } from '../../worker/engine/demo-model/graphs.js';
import type { EngineRequest } from '../../worker/engine/engine.js';
import { float16ToFloat32, float32ToFloat16 } from '../../worker/engine/fp16.js';
import { MODEL_FILES } from '../../worker/engine/model-files.js';
import { webnnSchedule } from '../../worker/engine/schedule.js';
import { ort } from '../../worker/engine/sessions.js';
import { ThreadClient } from '../../worker/engine/thread-client.js';
import { ThreadedEngine } from '../../worker/engine/threaded-engine.js';

let dataDir: string;
let modelDir: string;
const engines: ThreadedEngine[] = [];
const track = <T extends ThreadedEngine>(e: T): T => { engines.push(e); return e; };

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'zimage-features-'));
  modelDir = await ensureDemoModel(dataDir);
});

afterAll(async () => {
  for (const e of engines) await e.dispose();
  await rm(dataDir, { recursive: true, force: true });
});

const req = (over: Partial<EngineRequest> = {}): EngineRequest =>
  ({ prompt: 'a lighthouse in a storm', width: 64, height: 64, steps: 4, seeds: [3], ...over });
const none = (): void => undefined;

async function rejection(p: Promise<unknown>): Promise<ZimageError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(isZimageError(err), `expected a ZimageError, got ${String(err)}`).toBe(true);
  return err as ZimageError;
}

describe('safety checker (off by default)', () => {
  it('passes abstract images when on', async () => {
    const e = track(createEngine({ dataDir, safetyChecker: true }));
    const [img] = await e.generate(req(), none);
    expect(img!.rgb.length).toBe(64 * 64 * 3);
    expect((await e.stats()).stages.safety?.count).toBe(1);
  });

  it('a flagged image → SAFETY_BLOCKED, the image is not returned', async () => {
    const dir = join(dataDir, 'flagging');
    await cp(modelDir, dir, { recursive: true });
    await writeFile(join(dir, MODEL_FILES.safetyChecker), safetyCheckerGraph(-1));
    const on = track(new ThreadedEngine({ modelDir: dir, executionProvider: 'cpu', safetyChecker: true }));
    const err = await rejection(on.generate(req({ seeds: [1, 2, 3] }), none));
    expect(err.code).toBe('SAFETY_BLOCKED');
    const off = track(new ThreadedEngine({ modelDir: dir, executionProvider: 'cpu' }));
    expect(await off.generate(req(), none)).toHaveLength(1);
  });

  it('when on, missing safety files are a load error', async () => {
    const dir = join(dataDir, 'no-safety');
    await cp(modelDir, dir, { recursive: true });
    await rm(join(dir, MODEL_FILES.scPrep));
    const err = await rejection(track(new ThreadedEngine({ modelDir: dir, executionProvider: 'cpu', safetyChecker: true })).load());
    expect(err.code).toBe('MODEL_INVALID');
    expect(err.message).toContain('missing onnx/sc_prep_model_f16.onnx');
  });
});

describe('text-feature cache', () => {
  it('a repeated prompt skips the text encoder', async () => {
    const e = track(createEngine({ dataDir }));
    await e.generate(req({ prompt: 'cache me' }), none);
    const first = await e.stats();
    await e.generate(req({ prompt: 'cache me', seeds: [9] }), none);
    const second = await e.stats();
    expect(second.stages.encode?.count).toBe(first.stages.encode?.count);
    expect(second.textCache!.hits).toBe(first.textCache!.hits + 1);
    await e.generate(req({ prompt: 'something else' }), none);
    expect((await e.stats()).stages.encode!.count).toBe(first.stages.encode!.count + 1);
  });

  it('is bounded by bytes', async () => {
    // Demo features are [1, tokens, 32] float16: ~1.5 KB for a short prompt; a 4 KB budget holds two or so.
    const e = track(createEngine({ dataDir, textCacheBytes: 4096 }));
    for (const p of ['one', 'two', 'three', 'four', 'five']) await e.generate(req({ prompt: p }), none);
    const s = await e.stats();
    expect(s.textCache!.bytes).toBeLessThanOrEqual(4096);
    expect(s.textCache!.entries).toBeLessThan(5);
  });
});

describe('execution providers', () => {
  it('auto falls back to CPU with a warning when CUDA is not installed', async () => {
    const warnings: string[] = [];
    const e = track(createEngine({ dataDir, executionProvider: 'auto', onWarning: (m) => warnings.push(m) }));
    await e.load();
    if (e.provider === 'cuda') return; // a GPU machine: nothing to fall back from
    expect(e.provider).toBe('cpu');
    expect(warnings.join('\n')).toMatch(/ZIMAGE_EP=auto: CUDA unavailable .*falling back to CPU/);
    expect(await e.generate(req(), none)).toHaveLength(1);
  });

  it('cuda without CUDA is a clear EP_UNAVAILABLE error', async () => {
    const e = track(createEngine({ dataDir, executionProvider: 'cuda' }));
    const outcome = await e.load().then(() => undefined, (err: unknown) => err);
    if (outcome === undefined) { expect(e.provider).toBe('cuda'); return; }
    expect(isZimageError(outcome, 'EP_UNAVAILABLE')).toBe(true);
    expect((outcome as Error).message).toContain('ONNXRUNTIME_NODE_INSTALL=cuda12');
  });
});

describe('stage overlap across requests', () => {
  it('concurrent requests are served in order with their own progress; the transformer stays busy', async () => {
    const e = track(createEngine({ dataDir, demoStepDelayMs: 5 }));
    await e.load();
    await e.stats(true);
    const progress: Record<string, string[]> = { a: [], b: [], c: [] };
    const finished: string[] = [];
    const run = (name: string, prompt: string) =>
      e.generate(req({ prompt, seeds: [1, 2] }), (i, s) => progress[name]!.push(`${i}.${s}`)).then((imgs) => { finished.push(name); return imgs; });
    const [a, b, c] = await Promise.all([run('a', 'first prompt'), run('b', 'second prompt'), run('c', 'first prompt')]);
    expect(finished).toEqual(['a', 'b', 'c']);
    for (const p of Object.values(progress)) expect(p).toEqual(['1.1', '1.2', '1.3', '1.4', '2.1', '2.2', '2.3', '2.4']);
    expect(Buffer.from(c![0]!.rgb).equals(Buffer.from(a![0]!.rgb))).toBe(true);
    expect(Buffer.from(b![0]!.rgb).equals(Buffer.from(a![0]!.rgb))).toBe(false);
    const s = await e.stats();
    expect(s.stages.step!.count).toBe(3 * 2 * 4);
    expect(s.textCache!.hits).toBeGreaterThanOrEqual(1);
  });
});

describe('v2 scheduler_step helper graph', () => {
  it('matches the TypeScript WebNN schedule step for step', async () => {
    const session = await ort.InferenceSession.create(join(modelDir, MODEL_FILES.schedulerStep));
    try {
      const n = 9;
      const schedule = webnnSchedule(n);
      const latents = Float32Array.from({ length: 16 * 4 * 4 }, (_, i) => Math.sin(i) * 2);
      const pred = Float32Array.from({ length: latents.length }, (_, i) => Math.cos(i * 0.7));
      const dims = [1, 16, 4, 4];
      for (let i = 0; i < n; i++) {
        const out = await session.run({
          noise_pred: new ort.Tensor('float16', float32ToFloat16(pred), dims),
          latents: new ort.Tensor('float16', float32ToFloat16(latents), dims),
          step_info: new ort.Tensor('float16', float32ToFloat16([i, n]), [2]),
        });
        const got = float16ToFloat32(out.latents_out!.data as Uint16Array);
        const lat16 = float16ToFloat32(float32ToFloat16(latents));
        const pred16 = float16ToFloat32(float32ToFloat16(pred));
        const dt = schedule.nextSigmas[i]! - schedule.sigmas[i]!;
        for (let j = 0; j < got.length; j += 7) expect(got[j]).toBeCloseTo(lat16[j]! - dt * pred16[j]!, 2);
      }
    } finally {
      await session.release();
    }
  });
});

describe('engine thread failures', () => {
  it('a thread that dies rejects its pending calls with ENGINE_CRASHED and reports the crash', async () => {
    const crashes: Error[] = [];
    const client = new ThreadClient('transformer', () => undefined, (err) => crashes.push(err));
    const settings = { modelDir, executionProvider: 'cpu' as const, stepDelayMs: 200 };
    const report = await client.call('open', { role: 'transformer', settings });
    expect(report.problems).toEqual([]);
    await client.call('configure', { channels: 16 });
    const features = { data: new Uint16Array(3 * 32), tokens: 3, hidden: 32 };
    const pending = client.call('denoise', { job: { features, seed: 1, latentHeight: 4, latentWidth: 4, steps: 16 }, cancel: new SharedArrayBuffer(4) });
    await new Promise((r) => setTimeout(r, 100));
    await client.terminate(); // the thread goes away mid-generation, as on a native crash
    const err = await rejection(pending);
    expect(err.code).toBe('ENGINE_CRASHED');
    expect(err.message).toContain('engine thread (transformer)');
    expect(crashes).toHaveLength(1);
    expect((await rejection(client.call('stats', {}))).code).toBe('ENGINE_CRASHED');
  });
});

describe('demo model builder', () => {
  it('concurrent builders agree on one complete model; an outdated one is rebuilt', async () => {
    const fresh = await mkdtemp(join(tmpdir(), 'zimage-demo-race-'));
    try {
      const dirs = await Promise.all([1, 2, 3].map(() => ensureDemoModel(fresh)));
      expect(new Set(dirs).size).toBe(1);
      expect((await readdir(join(fresh, 'models'))).sort()).toEqual(['demo']); // no temp dirs left behind
      const marker = JSON.parse(await readFile(join(dirs[0]!, DEMO_MARKER), 'utf8')) as { version: number };
      expect(marker.version).toBe(DEMO_MODEL_VERSION);
      await writeFile(join(dirs[0]!, DEMO_MARKER), JSON.stringify({ ...marker, version: 1 }));
      await rm(join(dirs[0]!, MODEL_FILES.vaeDecoder));
      expect(await ensureDemoModel(fresh)).toBe(dirs[0]);
      expect((await readdir(join(dirs[0]!, 'onnx')))).toContain('vae_decoder_model_f16.onnx');
      expect(JSON.parse(await readFile(join(dirs[0]!, DEMO_MARKER), 'utf8')).version).toBe(DEMO_MODEL_VERSION);
    } finally {
      await rm(fresh, { recursive: true, force: true });
    }
  });
});
