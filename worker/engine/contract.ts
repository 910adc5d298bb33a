/**
 * The v2 tensor contract of the Z-Image-Turbo ONNX export (ZIMAGE_ONNX.md §1) and its check against a
 * session's input/output metadata. Names, element types and ranks are fixed; sizes are read from the
 * metadata (hidden size, latent channels), never assumed, so the demo model passes the same check.
 */
import type { ModelFileKey } from './model-files.js';

export type ElementType = 'float16' | 'float32' | 'int64' | 'bool';

export interface PortSpec {
  name: string;
  type: ElementType;
  rank: number;
  /** Dimensions that must be exactly this size when the graph declares them as numbers (batch = 1). */
  fixed?: Readonly<Record<number, number>>;
}

export interface GraphContract {
  inputs: readonly PortSpec[];
  outputs: readonly PortSpec[];
}

const B1 = { 0: 1 } as const;

export const CONTRACT: Readonly<Partial<Record<ModelFileKey, GraphContract>>> = {
  textEncoder: {
    inputs: [
      { name: 'input_ids', type: 'int64', rank: 2, fixed: B1 },
      { name: 'attention_mask', type: 'int64', rank: 2, fixed: B1 },
    ],
    outputs: [{ name: 'encoder_hidden_states', type: 'float16', rank: 3, fixed: B1 }],
  },
  transformer: {
    inputs: [
      { name: 'hidden_states', type: 'float16', rank: 4, fixed: B1 },
      { name: 'encoder_hidden_states', type: 'float16', rank: 3, fixed: B1 },
      { name: 'timestep', type: 'float16', rank: 1, fixed: B1 },
    ],
    outputs: [{ name: 'sample', type: 'float16', rank: 4, fixed: B1 }],
  },
  vaePreProcess: {
    inputs: [{ name: 'latents', type: 'float16', rank: 4, fixed: B1 }],
    outputs: [{ name: 'scaled_latents', type: 'float16', rank: 4, fixed: B1 }],
  },
  vaeDecoder: {
    inputs: [{ name: 'latent_sample', type: 'float16', rank: 4, fixed: B1 }],
    outputs: [{ name: 'sample', type: 'float16', rank: 4, fixed: { 0: 1, 1: 3 } }],
  },
  schedulerStep: {
    inputs: [
      { name: 'noise_pred', type: 'float16', rank: 4, fixed: B1 },
      { name: 'latents', type: 'float16', rank: 4, fixed: B1 },
      { name: 'step_info', type: 'float16', rank: 1, fixed: { 0: 2 } },
    ],
    outputs: [{ name: 'latents_out', type: 'float16', rank: 4, fixed: B1 }],
  },
  scPrep: {
    inputs: [{ name: 'sample', type: 'float16', rank: 4, fixed: { 0: 1, 1: 3 } }],
    outputs: [{ name: 'clip_input', type: 'float16', rank: 4, fixed: { 0: 1, 1: 3 } }],
  },
  safetyChecker: {
    inputs: [{ name: 'clip_input', type: 'float16', rank: 4, fixed: { 0: 1, 1: 3 } }],
    outputs: [{ name: 'has_nsfw_concepts', type: 'bool', rank: 1, fixed: B1 }],
  },
};

/** What a session reports about one input or output (subset of onnxruntime-common's ValueMetadata). */
export interface PortMetadata {
  name: string;
  isTensor: boolean;
  type?: string;
  shape?: ReadonlyArray<number | string>;
}

export function describePort(p: PortMetadata): string {
  if (!p.isTensor) return `${p.name} (non-tensor)`;
  return `${p.name} ${p.type ?? '?'} [${(p.shape ?? []).join(',')}]`;
}

function describeSpec(s: PortSpec): string {
  return `${s.name} ${s.type} rank ${s.rank}`;
}

/** Known v1 (March 2026) signatures, to name the problem precisely. */
function looksLikeV1(key: ModelFileKey, inputs: readonly PortMetadata[], outputs: readonly PortMetadata[]): boolean {
  const names = new Set([...inputs, ...outputs].map((p) => p.name));
  if (key === 'textEncoder' && names.has('encoder_hidden_state')) return true;
  if (key === 'transformer' && names.has('unified_results')) return true;
  const hs = inputs.find((p) => p.name === 'hidden_states' || p.name === 'latents');
  return (key === 'transformer' || key === 'vaePreProcess') && (hs?.shape?.length ?? 0) === 5;
}

/** Problems of one graph against the contract; empty when it conforms. */
export function checkGraph(key: ModelFileKey, file: string, inputs: readonly PortMetadata[], outputs: readonly PortMetadata[]): string[] {
  const contract = CONTRACT[key];
  if (!contract) return [];
  const problems: string[] = [];
  const found = `found inputs [${inputs.map(describePort).join('; ')}], outputs [${outputs.map(describePort).join('; ')}]`;
  if (looksLikeV1(key, inputs, outputs)) {
    problems.push(`${file}: this is the v1 export (5-D latents / encoder_hidden_state / unified_results); zimage-bot needs the v2 export (webnn/Z-Image-Turbo main, Sept 2026) — ${found}`);
    return problems;
  }
  const check = (side: 'input' | 'output', specs: readonly PortSpec[], actual: readonly PortMetadata[]): void => {
    for (const spec of specs) {
      const got = actual.find((p) => p.name === spec.name);
      if (!got) { problems.push(`${file}: missing ${side} ${describeSpec(spec)}`); continue; }
      if (!got.isTensor || got.type !== spec.type) problems.push(`${file}: ${side} ${spec.name} is ${got.type ?? 'not a tensor'}, expected ${spec.type}`);
      const shape = got.shape ?? [];
      if (shape.length !== spec.rank) { problems.push(`${file}: ${side} ${spec.name} has rank ${shape.length} [${shape.join(',')}], expected rank ${spec.rank}`); continue; }
      for (const [axis, size] of Object.entries(spec.fixed ?? {})) {
        const d = shape[Number(axis)];
        if (typeof d === 'number' && d !== size && d !== -1) problems.push(`${file}: ${side} ${spec.name} dim ${axis} is ${d}, expected ${size}`);
      }
    }
  };
  check('input', contract.inputs, inputs);
  check('output', contract.outputs, outputs);
  if (problems.length > 0) problems.push(`${file}: ${found}`);
  return problems;
}

/** Sizes the pipeline needs, read from metadata. */
export interface ModelDims {
  /** Text feature width (2560 for Qwen3-4B, 32 for the demo). */
  hidden: number;
  /** Latent channels (16). */
  channels: number;
}

function dim(ports: readonly PortMetadata[], name: string, axis: number): number | undefined {
  const d = ports.find((p) => p.name === name)?.shape?.[axis];
  return typeof d === 'number' && d > 0 ? d : undefined;
}

/** Reads and cross-checks the sizes shared between graphs; returns problems instead of throwing. */
export function readDims(meta: Partial<Record<ModelFileKey, { inputs: readonly PortMetadata[]; outputs: readonly PortMetadata[] }>>):
  { dims?: ModelDims; problems: string[] } {
  const problems: string[] = [];
  const te = meta.textEncoder;
  const tr = meta.transformer;
  const vd = meta.vaeDecoder;
  if (!te || !tr || !vd) return { problems };
  const hiddenTe = dim(te.outputs, 'encoder_hidden_states', 2);
  const hiddenTr = dim(tr.inputs, 'encoder_hidden_states', 2);
  // Channels may be declared on any of the latent ports; they must agree wherever declared.
  const channelPorts: Array<[string, number | undefined]> = [
    ['transformer hidden_states', dim(tr.inputs, 'hidden_states', 1)],
    ['transformer sample', dim(tr.outputs, 'sample', 1)],
    ['vae decoder latent_sample', dim(vd.inputs, 'latent_sample', 1)],
  ];
  const hidden = hiddenTe ?? hiddenTr;
  if (hidden === undefined) problems.push('text feature width is not declared by the text encoder output nor the transformer input');
  if (hiddenTe !== undefined && hiddenTr !== undefined && hiddenTe !== hiddenTr) {
    problems.push(`text encoder emits ${hiddenTe}-wide features but the transformer expects ${hiddenTr}`);
  }
  const declared = channelPorts.filter((p): p is [string, number] => p[1] !== undefined);
  const channels = declared[0]?.[1];
  if (channels === undefined) problems.push('no latent port declares the channel count (dim 1 of hidden_states / sample / latent_sample)');
  for (const [what, c] of declared) {
    if (c !== channels) problems.push(`${what} has ${c} channels, ${declared[0]![0]} has ${channels}`);
  }
  return hidden !== undefined && channels !== undefined && problems.length === 0 ? { dims: { hidden, channels }, problems } : { problems };
}
