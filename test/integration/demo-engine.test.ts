/**
 * The engine on real onnxruntime-node: the demo model built into a temp dir, run through ThreadedEngine
 * (compiled thread entry from dist/), the same code path as the real Z-Image-Turbo export.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isZimageError, ZimageError } from '../../src/errors.js';
import { loadPromptTokenizer } from '../../src/model/prompt-tokenizer.js';
import { createEngine } from '../../worker/engine/create-engine.js';
import { ensureDemoModel } from '../../worker/engine/demo-model/build.js';
import { GraphBuilder } from '../../worker/engine/demo-model/onnx-graph.js';
import type { EngineImage, EngineRequest } from '../../worker/engine/engine.js';
import { MODEL_FILES } from '../../worker/engine/model-files.js';
import { ThreadedEngine } from '../../worker/engine/threaded-engine.js';
import { externalize, v1TransformerGraph } from '../helpers/model-edits.js';

let dataDir: string;
let modelDir: string;
let engine: ThreadedEngine;
const disposeLater: ThreadedEngine[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'zimage-engine-'));
  modelDir = await ensureDemoModel(dataDir);
  engine = createEngine({ dataDir, executionProvider: 'cpu', threads: 1 });
});

afterAll(async () => {
  await engine?.dispose();
  for (const e of disposeLater) await e.dispose();
  await rm(dataDir, { recursive: true, force: true });
});

const req = (over: Partial<EngineRequest> = {}): EngineRequest =>
  ({ prompt: 'a ginger cat on a windowsill', width: 128, height: 96, steps: 8, seeds: [7], ...over });
const none = (): void => undefined;

async function rejection(p: Promise<unknown>): Promise<ZimageError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(isZimageError(err), `expected a ZimageError, got ${String(err)}`).toBe(true);
  return err as ZimageError;
}

function stats(img: EngineImage): { std: number; roughness: number } {
  const { rgb, width } = img;
  let sum = 0;
  let sq = 0;
  let diff = 0;
  for (let i = 0; i < rgb.length; i++) { sum += rgb[i]!; sq += rgb[i]! * rgb[i]!; }
  for (let i = 3; i < rgb.length; i++) if ((i / 3) % width !== 0) diff += Math.abs(rgb[i]! - rgb[i - 3]!);
  const mean = sum / rgb.length;
  return { std: Math.sqrt(sq / rgb.length - mean * mean), roughness: diff / rgb.length };
}

describe('demo engine (ThreadedEngine, real onnxruntime-node)', () => {
  it('loads with demo info', async () => {
    const info = await engine.load();
    expect(info).toMatchObject({ id: 'zimage-demo', name: 'demo model', demo: true, maxTokens: 512 });
    expect(info.version).toMatch(/^demo-v\d+$/);
  });

  it('same prompt + seed → identical bytes; seed or prompt changes the image', async () => {
    const [a] = await engine.generate(req(), none);
    const [b] = await engine.generate(req(), none);
    const [c] = await engine.generate(req({ seeds: [8] }), none);
    const [d] = await engine.generate(req({ prompt: 'the mountains at sunset' }), none);
    expect(a!.rgb.length).toBe(128 * 96 * 3);
    expect(a).toMatchObject({ seed: 7, width: 128, height: 96 });
    expect(Buffer.from(b!.rgb).equals(Buffer.from(a!.rgb))).toBe(true);
    const differs = (x: EngineImage, y: EngineImage): number => x.rgb.reduce((n, v, i) => n + Math.abs(v - y.rgb[i]!), 0) / x.rgb.length;
    expect(differs(a!, c!)).toBeGreaterThan(10);
    expect(differs(a!, d!)).toBeGreaterThan(10);
    // A colour field: varied (not flat grey) and smooth (not noise).
    for (const img of [a!, c!, d!]) {
      const s = stats(img);
      expect(s.std).toBeGreaterThan(20);
      expect(s.roughness).toBeLessThan(6);
    }
  });

  it('calls onStep steps × count times, in order', async () => {
    const calls: Array<[number, number, number]> = [];
    const images = await engine.generate(req({ steps: 5, seeds: [1, 2, 3] }), (i, s, n) => calls.push([i, s, n]));
    expect(images.map((i) => i.seed)).toEqual([1, 2, 3]);
    const expected = [1, 2, 3].flatMap((i) => [1, 2, 3, 4, 5].map((s) => [i, s, 5]));
    expect(calls).toEqual(expected);
  });

  it('runs the WebNN schedule too', async () => {
    const webnn = createEngine({ dataDir, schedule: 'webnn' });
    disposeLater.push(webnn);
    const [img] = await webnn.generate(req({ steps: 9 }), none);
    expect(stats(img!).std).toBeGreaterThan(20);
  });

  it('abort between steps → CANCELLED, and the engine keeps working', async () => {
    const slow = createEngine({ dataDir, demoStepDelayMs: 40 });
    disposeLater.push(slow);
    const ctrl = new AbortController();
    const steps: number[] = [];
    const err = await rejection(slow.generate(req({ steps: 16, seeds: [1, 2] }), (_i, s) => { steps.push(s); if (s === 2) ctrl.abort(); }, ctrl.signal));
    expect(err.code).toBe('CANCELLED');
    expect(steps.length).toBeLessThan(6);
    expect((await rejection(slow.generate(req(), none, AbortSignal.abort()))).code).toBe('CANCELLED');
    const [ok] = await slow.generate(req({ steps: 2 }), none);
    expect(ok!.rgb.length).toBe(128 * 96 * 3);
  });

  it('refuses bad requests with typed errors', async () => {
    expect((await rejection(engine.generate(req({ width: 100 }), none))).code).toBe('INVALID_REQUEST');
    expect((await rejection(engine.generate(req({ steps: 17 }), none))).code).toBe('INVALID_REQUEST');
    const long = Array.from({ length: 400 }, (_, i) => `word${i}`).join(' ');
    const err = await rejection(engine.generate(req({ prompt: long }), none));
    expect(err.code).toBe('PROMPT_TOO_LONG');
    expect(err.message).toContain('cut off: "');
    expect(long.endsWith(String(err.params.cutText))).toBe(true);
  });
});

describe('model directory validation', () => {
  async function copyModel(name: string): Promise<string> {
    const dir = join(dataDir, name);
    await cp(modelDir, dir, { recursive: true });
    return dir;
  }

  async function loadError(dir: string): Promise<ZimageError> {
    const e = new ThreadedEngine({ modelDir: dir, executionProvider: 'cpu' });
    disposeLater.push(e);
    return rejection(e.load());
  }

  it('a missing file: one MODEL_INVALID listing found and expected files', async () => {
    const dir = await copyModel('missing-file');
    await rm(join(dir, MODEL_FILES.vaeDecoder));
    const err = await loadError(dir);
    expect(err.code).toBe('MODEL_INVALID');
    expect(err.message).toContain('missing onnx/vae_decoder_model_f16.onnx');
    expect(err.message).toContain('expected: ');
    expect(err.message).toMatch(/found: .*onnx\/transformer_model_q4f16\.onnx/);
  });

  it('a missing external-data shard is named', async () => {
    const dir = await copyModel('missing-shard');
    const model = onnxProto.onnx.ModelProto.decode(await readFile(join(dir, MODEL_FILES.textEncoder)));
    const table = model.graph!.initializer!.find((t) => t.name === 'embed_tokens')!;
    table.rawData = new Uint8Array(0);
    table.dataLocation = onnxProto.onnx.TensorProto.DataLocation.EXTERNAL;
    table.externalData = [
      { key: 'location', value: 'text_encoder_model_q4f16.onnx_data_1' },
      { key: 'offset', value: '0' },
      { key: 'length', value: String(512 * 32 * 2) },
    ];
    await writeFile(join(dir, MODEL_FILES.textEncoder), onnxProto.onnx.ModelProto.encode(model).finish());
    const err = await loadError(dir);
    expect(err.code).toBe('MODEL_INVALID');
    expect(err.message).toContain('missing external-data shard onnx/text_encoder_model_q4f16.onnx_data_1');
  });

  it('sharded external data next to the .onnx loads by path and gives the same image', async () => {
    const dir = await copyModel('sharded');
    // Move the transformer's weights into two shards, the way the v2 export stores them (…onnx_data, …onnx_data_1).
    const file = join(dir, MODEL_FILES.transformer);
    const { model, shards } = externalize(await readFile(file), [['w_colour', 'transformer_model_q4f16.onnx_data'], ['w_gain', 'transformer_model_q4f16.onnx_data_1']]);
    await writeFile(file, model);
    for (const [shard, bytes] of shards) await writeFile(join(dir, 'onnx', shard), bytes);
    const sharded = new ThreadedEngine({ modelDir: dir, executionProvider: 'cpu' });
    disposeLater.push(sharded);
    const [a] = await sharded.generate(req(), none);
    const [b] = await engine.generate(req(), none);
    expect(Buffer.from(a!.rgb).equals(Buffer.from(b!.rgb))).toBe(true);
    await rm(join(dir, 'onnx', 'transformer_model_q4f16.onnx_data_1'));
    const err = await loadError(dir);
    expect(err.message).toContain('missing external-data shard onnx/transformer_model_q4f16.onnx_data_1 (referenced by onnx/transformer_model_q4f16.onnx)');
  });

  it('a v1-shaped transformer (5-D latents, unified_results) is refused with a clear message', async () => {
    const dir = await copyModel('v1-shaped');
    await writeFile(join(dir, MODEL_FILES.transformer), v1TransformerGraph());
    const err = await loadError(dir);
    expect(err.code).toBe('MODEL_INVALID');
    expect(err.message).toContain('onnx/transformer_model_q4f16.onnx: this is the v1 export');
    expect(err.message).toContain('unified_results float32');
  });

  it('a graph with a wrong dtype is refused, naming the port', async () => {
    const dir = await copyModel('wrong-dtype');
    const g = new GraphBuilder('bad_pre');
    g.input('latents', 'float32', [1, 16, 'height', 'width']);
    g.output('scaled_latents', 'float32', [1, 16, 'height', 'width']);
    g.op('Identity', ['latents'], {}, 'scaled_latents');
    await writeFile(join(dir, MODEL_FILES.vaePreProcess), g.encode());
    const err = await loadError(dir);
    expect(err.message).toContain('input latents is float32, expected float16');
  });

  it('a directory that is not a model', async () => {
    const err = await loadError(join(dataDir, 'nothing-here'));
    expect(err.code).toBe('MODEL_INVALID');
    expect(err.message).toContain('missing tokenizer/tokenizer.json');
    expect(err.message).toContain('(empty or not a directory)');
  });
});

describe('prompt tokenizer on the demo tokenizer (Qwen special tokens)', () => {
  it('applies the template with the Qwen special ids', async () => {
    const tok = await loadPromptTokenizer(modelDir);
    const ids = tok.encode('a cat');
    expect(ids[0]).toBe(151644);
    expect(ids).toContain(151645);
    expect(ids.filter((i) => i === 151644)).toHaveLength(2);
    expect(tok.decode(ids)).toBe('<|im_start|>user\na cat<|im_end|>\n<|im_start|>assistant\n');
    for (const p of ['一只橘猫在窗台上', '🐱🌅 café naïve', 'Ünïcödé 😀 mixed 漢字']) expect(tok.decode(tok.encode(p))).toContain(p);
  });

  it('check() quotes the cut point at the limit', async () => {
    const tok = await loadPromptTokenizer(modelDir);
    const prompt = 'a red fox in the snow, '.repeat(40);
    expect(tok.check('a cat', 512)).toEqual({ ok: true, tokens: tok.encode('a cat').length });
    const r = tok.check(prompt, 64);
    if (r.ok) throw new Error('expected the prompt to be too long');
    expect(r.maxTokens).toBe(64);
    expect(r.tokens).toBe(tok.encode(prompt).length);
    expect(r.keptText + r.cutText).toBe(prompt);
    expect(tok.encode(r.keptText).length).toBeLessThanOrEqual(64);
    expect(tok.encode(prompt.slice(0, r.keptText.length + 1)).length).toBeGreaterThan(64);
  });

  it('the 512-token boundary: exactly 512 templated tokens pass, 513 are refused', async () => {
    const tok = await loadPromptTokenizer(modelDir);
    const overhead = tok.encode('').length;
    const fits = '~'.repeat(512 - overhead); // '~' has no merges in the demo vocabulary: one token per character
    expect(tok.encode(fits)).toHaveLength(512);
    expect(tok.check(fits, 512)).toEqual({ ok: true, tokens: 512 });
    const r = tok.check(`${fits}~`, 512);
    expect(r).toEqual({ ok: false, tokens: 513, maxTokens: 512, keptText: fits, cutText: '~' });
  });

  it('never cuts inside a surrogate pair', async () => {
    const tok = await loadPromptTokenizer(modelDir);
    const prompt = '😀🐱🌅🎨'.repeat(30);
    const r = tok.check(prompt, 40);
    if (r.ok) throw new Error('expected the prompt to be too long');
    expect(r.keptText + r.cutText).toBe(prompt);
    const last = r.keptText.charCodeAt(r.keptText.length - 1);
    expect(last >= 0xd800 && last <= 0xdbff).toBe(false);
    expect(tok.encode(r.keptText).length).toBeLessThanOrEqual(40);
  });
});
