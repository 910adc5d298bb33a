/**
 * The demo model is built from the v2 export's operators (ZIMAGE_ONNX.md §1): each graph read back with
 * onnx-proto contains the listed kernels with the export's attributes, and onnxruntime-node's CPU EP runs every
 * graph with graph optimizations off (so the contrib kernels themselves run, not fused replacements). The full-size
 * replica builder is checked at full width and reduced depth: shapes, shard layout, and a generation through it.
 */
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDemoModel } from '../../worker/engine/demo-model/build.js';
import { writeReplicaModel } from '../../worker/engine/demo-model/replica.js';
import { float32ToFloat16 } from '../../worker/engine/fp16.js';
import { MODEL_FILES } from '../../worker/engine/model-files.js';
import { ort } from '../../worker/engine/sessions.js';
import { ZimagePipeline } from '../../worker/engine/zimage-pipeline.js';

const { onnx } = onnxProto;
let dataDir: string;
let demoDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'zimage-ops-'));
  demoDir = await ensureDemoModel(dataDir);
});
afterAll(async () => { await rm(dataDir, { recursive: true, force: true }); });

async function graph(rel: string, dir = demoDir): Promise<onnxProto.onnx.ModelProto> {
  return onnx.ModelProto.decode(await readFile(join(dir, rel)));
}

function nodes(m: onnxProto.onnx.ModelProto, opType: string, domain = ''): onnxProto.onnx.NodeProto[] {
  return m.graph!.node!.filter((n) => n.opType === opType && (n.domain ?? '') === domain) as onnxProto.onnx.NodeProto[];
}

function attr(n: onnxProto.onnx.INodeProto, name: string): number | string | undefined {
  const a = n.attribute!.find((x) => x.name === name);
  if (!a) return undefined;
  return a.s && a.s.length ? new TextDecoder().decode(a.s) : a.type === onnx.AttributeProto.AttributeType.FLOAT ? a.f! : Number(a.i);
}

/** The node producing `value`, and so on upstream: the op types met on the way to the graph input `input`. */
function pathFrom(m: onnxProto.onnx.ModelProto, value: string, input: string): string[] | undefined {
  const producer = m.graph!.node!.find((n) => n.output!.includes(value));
  if (!producer) return value === input ? [] : undefined;
  for (const i of producer.input!) {
    const p = pathFrom(m, i, input);
    if (p) return [producer.opType!, ...p];
  }
  return undefined;
}

const MS = 'com.microsoft';

describe('demo model operators', () => {
  it('text encoder: int4 GatherBlockQuantized, GroupQueryAttention (rotary inside, lengths from the mask), (Skip)SimplifiedLayerNormalization, 4-bit MatMulNBits', async () => {
    const m = await graph(MODEL_FILES.textEncoder);
    expect(m.opsetImport!.map((o) => [o.domain, Number(o.version)])).toEqual([['', 21], [MS, 1]]);
    const [gather] = nodes(m, 'GatherBlockQuantized', MS);
    expect(gather).toBeDefined();
    const table = m.graph!.initializer!.find((t) => t.name === gather!.input![0])!;
    expect(table.dataType).toBe(22); // INT4
    expect(attr(gather!, 'block_size')).toBe(32);
    const gqa = nodes(m, 'GroupQueryAttention', MS);
    expect(gqa.length).toBe(2);
    for (const n of gqa) {
      expect([attr(n, 'do_rotary'), attr(n, 'rotary_interleaved'), attr(n, 'num_heads'), attr(n, 'kv_num_heads')]).toEqual([1, 0, 2, 1]);
      expect(n.input![3]).toBe(''); // no past
      expect(pathFrom(m, n.input![5]!, 'attention_mask')).toEqual(['Cast', 'Sub', 'ReduceSum']); // seqlens_k = Σmask − 1
      expect(pathFrom(m, n.input![6]!, 'attention_mask')).toEqual(['Cast', 'Squeeze', 'Gather', 'Shape']); // total length
    }
    expect(nodes(m, 'SimplifiedLayerNormalization').length).toBeGreaterThan(0);
    expect(nodes(m, 'SkipSimplifiedLayerNormalization', MS).length).toBe(3);
    const mm = nodes(m, 'MatMulNBits', MS);
    expect(mm.length).toBe(2 * 7);
    for (const n of mm) expect([attr(n, 'bits'), attr(n, 'block_size'), attr(n, 'accuracy_level')]).toEqual([4, 32, 4]);
    expect(nodes(m, 'MatMul')).toEqual([]); // every linear is 4-bit
  });

  it('transformer: patchify/unpatchify, MatMulNBits, MultiHeadAttention, RotaryEmbedding (interleaved), LayerNormalization (stash_type 1)', async () => {
    const m = await graph(MODEL_FILES.transformer);
    expect(nodes(m, 'Transpose').map((n) => n.attribute![0]!.ints!.map(Number))).toEqual(expect.arrayContaining([[0, 2, 4, 3, 5, 1], [0, 5, 1, 3, 2, 4]]));
    expect(nodes(m, 'MatMulNBits', MS).length).toBeGreaterThanOrEqual(3 * 7);
    expect(nodes(m, 'MultiHeadAttention', MS).length).toBe(3); // noise refiner, context refiner, main block
    const rope = nodes(m, 'RotaryEmbedding', MS);
    expect(rope.length).toBe(6);
    for (const n of rope) expect(attr(n, 'interleaved')).toBe(1);
    const [ln] = nodes(m, 'LayerNormalization');
    expect(attr(ln!, 'stash_type')).toBe(1);
    expect(nodes(m, 'SimplifiedLayerNormalization').every((n) => attr(n, 'stash_type') === 1)).toBe(true);
  });

  it('VAE decoder: Conv, InstanceNormalization group norm, nearest Resize, single-head attention', async () => {
    const m = await graph(MODEL_FILES.vaeDecoder);
    expect(nodes(m, 'Conv').length).toBeGreaterThan(5);
    const inorm = nodes(m, 'InstanceNormalization');
    expect(inorm.length).toBeGreaterThanOrEqual(5);
    for (const n of inorm) expect(pathFrom(m, n.input![0]!, 'latent_sample')?.[0]).toBe('Reshape'); // [1, groups, -1] around it
    const nearest = nodes(m, 'Resize').filter((n) => attr(n, 'mode') === 'nearest');
    expect(nearest.length).toBe(3);
    for (const n of nearest) expect([attr(n, 'coordinate_transformation_mode'), attr(n, 'nearest_mode')]).toEqual(['asymmetric', 'floor']);
    expect(nodes(m, 'Softmax').length).toBe(1);
    expect(nodes(m, 'MatMul').length).toBe(6); // q, k, v, scores, ·v, out
  });

  it('onnxruntime-node\'s CPU EP runs every graph with its contrib kernels as written (no graph optimizations)', async () => {
    const f16 = (n: number, f: (i: number) => number): Uint16Array => float32ToFloat16(Float32Array.from({ length: n }, (_, i) => f(i)));
    const feeds: Record<string, Record<string, ort.Tensor>> = {
      [MODEL_FILES.textEncoder]: { input_ids: new ort.Tensor('int64', BigInt64Array.from([151644n, 64n, 300n, 151645n]), [1, 4]), attention_mask: new ort.Tensor('int64', new BigInt64Array(4).fill(1n), [1, 4]) },
      [MODEL_FILES.transformer]: { hidden_states: new ort.Tensor('float16', f16(16 * 8 * 6, Math.sin), [1, 16, 8, 6]), encoder_hidden_states: new ort.Tensor('float16', f16(5 * 32, Math.cos), [1, 5, 32]), timestep: new ort.Tensor('float16', f16(1, () => 0.4), [1]) },
      [MODEL_FILES.vaeDecoder]: { latent_sample: new ort.Tensor('float16', f16(16 * 4 * 4, Math.sin), [1, 16, 4, 4]) },
    };
    for (const [rel, feed] of Object.entries(feeds)) {
      const s = await ort.InferenceSession.create(join(demoDir, rel), { graphOptimizationLevel: 'disabled' });
      try {
        const out = Object.values(await s.run(feed))[0]!;
        const values = Array.from(new Uint16Array((out.data as Uint16Array).buffer)).map((b) => b & 0x7c00);
        expect(values.every((e) => e !== 0x7c00), `${rel}: no inf/NaN`).toBe(true);
      } finally {
        await s.release();
      }
    }
  });
});

describe('full-size replica (--full), reduced depth', () => {
  it('writes full-width graphs with export-like shards and runs through the engine', async () => {
    const dir = join(dataDir, 'replica');
    const files = await writeReplicaModel(dir, { textLayers: 1, ditLayers: 1, refiners: 0, layout: { shardCap: 256 << 20 } });
    const onnxDir = (await readdir(join(dir, 'onnx'))).sort();
    expect(onnxDir).toEqual([
      'scheduler_step_model_f16.onnx', 'text_encoder_model_q4f16.onnx', 'text_encoder_model_q4f16.onnx_data', 'text_encoder_model_q4f16.onnx_data_1',
      'transformer_model_q4f16.onnx', 'transformer_model_q4f16.onnx_data', 'vae_decoder_model_f16.onnx', 'vae_pre_process_model_f16.onnx',
    ]);
    for (const f of files.filter((x) => x.path.includes('_data'))) expect(f.bytes, f.path).toBeLessThanOrEqual(256 << 20);
    expect((await stat(join(dir, MODEL_FILES.vaeDecoder))).size).toBeGreaterThan(95e6); // FLUX decoder, inline
    const te = await graph(MODEL_FILES.textEncoder, dir);
    const embed = te.graph!.initializer!.find((t) => t.name === 'embed_tokens')!;
    expect(embed.dims!.map(Number)).toEqual([151936, 2560]);
    expect(embed.externalData!.find((e) => e.key === 'location')!.value).toMatch(/^text_encoder_model_q4f16\.onnx_data(_1)?$/);
    for (const t of te.graph!.initializer!) if (t.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL) expect(t.rawData!.length, t.name!).toBeLessThanOrEqual(1 << 20);
    const tr = await graph(MODEL_FILES.transformer, dir);
    const q = tr.graph!.initializer!.find((t) => t.name === 'layers.0.attention.to_q.qweight')!;
    expect(q.dims!.map(Number)).toEqual([3840, 3840 / 32, 16]);
    expect(nodes(tr, 'MultiHeadAttention', MS).map((n) => attr(n, 'num_heads'))).toEqual([30]);

    const pipeline = await ZimagePipeline.load({ modelDir: dir, executionProvider: 'cpu' });
    try {
      expect(pipeline.model).toMatchObject({ hidden: 2560, channels: 16, vaeScale: 8 });
      expect(pipeline.info.name).toBe('full-size replica, random weights (1+1 layers)');
      const [img] = await pipeline.generate({ prompt: 'shape check', width: 32, height: 32, steps: 1, seeds: [1] }, () => undefined);
      expect(img!.rgb.length).toBe(32 * 32 * 3);
    } finally {
      await pipeline.dispose();
    }
  });
});
