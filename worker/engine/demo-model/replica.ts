/**
 * The full-size replica: the demo builder's graphs at Z-Image-Turbo's real dimensions with random weights
 * (text encoder: 35 Qwen3-4B layers at 2560; DiT: 30 main + 2 noise-refiner + 2 context-refiner blocks at 3840,
 * 30 heads; FLUX VAE decoder), external-data shards laid out like the export (`.onnx_data`, `.onnx_data_1`, …
 * ≤ 1.9 GiB; tensors ≤ 1 MiB inline). For measuring memory and time on our code path without the download;
 * its pictures are noise. Depth is adjustable so a test can check shapes and shards at full width cheaply.
 */
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { MODEL_FILES } from '../model-files.js';
import { ExternalDataSink, type ShardedLayout } from './external-data.js';
import { schedulerStepGraph, vaePreProcessGraph } from './graphs.js';
import { QWEN3_4B_35, textEncoderGraph } from './text-encoder.js';
import { buildDemoTokenizer } from '../../../src/model/demo-tokenizer.js';
import { transformerGraph, ZIMAGE_DIT } from './transformer.js';
import { FLUX_VAE, vaeDecoderGraph } from './vae-decoder.js';
import { RandomWeights } from './weights.js';

export const REPLICA_MARKER = 'replica-model.json';

export interface ReplicaOptions {
  /** Text encoder layers (default 35). */
  textLayers?: number;
  /** DiT main blocks (default 30) and refiner blocks of each kind (default 2). */
  ditLayers?: number;
  refiners?: number;
  layout?: ShardedLayout;
  /** Called after each file is written (progress on a terminal). */
  onFile?: (path: string, bytes: number) => void;
}

export interface ReplicaMarker {
  builder: 'zimage-bot full-size replica';
  textLayers: number;
  ditLayers: number;
  refiners: number;
}

export async function readReplicaMarker(dir: string): Promise<ReplicaMarker | undefined> {
  try {
    const m = JSON.parse(await readFile(join(dir, REPLICA_MARKER), 'utf8')) as Partial<ReplicaMarker>;
    return m.builder === 'zimage-bot full-size replica' ? (m as ReplicaMarker) : undefined;
  } catch {
    return undefined;
  }
}

/** Writes the replica into `dir`; returns every file written (relative path, bytes). */
export async function writeReplicaModel(dir: string, o: ReplicaOptions = {}): Promise<Array<{ path: string; bytes: number }>> {
  const textLayers = o.textLayers ?? QWEN3_4B_35.layers;
  const ditLayers = o.ditLayers ?? ZIMAGE_DIT.layers;
  const refiners = o.refiners ?? ZIMAGE_DIT.noiseRefiners;
  await mkdir(join(dir, 'onnx'), { recursive: true });
  await mkdir(join(dir, 'tokenizer'), { recursive: true });
  const written: Array<{ path: string; bytes: number }> = [];
  const put = async (rel: string, bytes: Uint8Array | string): Promise<void> => {
    await writeFile(join(dir, rel), bytes);
    const size = typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.byteLength;
    written.push({ path: rel, bytes: size });
    o.onFile?.(rel, size);
  };
  /** A graph whose big tensors go to shards next to it. */
  const sharded = async (rel: string, build: (sink: ExternalDataSink) => Uint8Array): Promise<void> => {
    const sink = new ExternalDataSink(join(dir, 'onnx'), basename(rel), o.layout);
    let bytes: Uint8Array;
    try { bytes = build(sink); } finally {
      for (const shard of sink.close()) { written.push({ path: `onnx/${shard.name}`, bytes: shard.bytes }); o.onFile?.(`onnx/${shard.name}`, shard.bytes); }
    }
    await put(rel, bytes);
  };

  const tok = buildDemoTokenizer();
  await put(MODEL_FILES.tokenizerJson, JSON.stringify(tok.tokenizerJson));
  await put(MODEL_FILES.tokenizerConfig, JSON.stringify(tok.tokenizerConfig, null, 2));
  await sharded(MODEL_FILES.textEncoder, (external) => textEncoderGraph({ ...QWEN3_4B_35, layers: textLayers }, new RandomWeights(17), { external }));
  await sharded(MODEL_FILES.transformer, (external) =>
    transformerGraph({ ...ZIMAGE_DIT, layers: ditLayers, noiseRefiners: refiners, contextRefiners: refiners }, new RandomWeights(23), { external }));
  await put(MODEL_FILES.vaeDecoder, vaeDecoderGraph(FLUX_VAE, new RandomWeights(29)));
  await put(MODEL_FILES.vaePreProcess, vaePreProcessGraph());
  await put(MODEL_FILES.schedulerStep, schedulerStepGraph());
  const marker: ReplicaMarker = { builder: 'zimage-bot full-size replica', textLayers, ditLayers, refiners };
  await writeFile(join(dir, REPLICA_MARKER), JSON.stringify(marker, null, 2) + '\n');
  for (const f of written) f.bytes = (await stat(join(dir, f.path))).size;
  return written;
}
