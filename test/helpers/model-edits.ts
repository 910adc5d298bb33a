/** Edits of demo-model graphs that tests share: a v1-shaped transformer, and initializers moved to external data. */
import onnxProto from 'onnx-proto';
import { GraphBuilder } from '../../worker/engine/demo-model/onnx-graph.js';

/** The March 2026 (v1) transformer's signature: 5-D float32 latents in, `unified_results` out. */
export function v1TransformerGraph(): Uint8Array {
  const g = new GraphBuilder('v1_transformer');
  g.input('hidden_states', 'float32', ['batch_size', 16, 'num_frames', 'height', 'width']);
  g.input('encoder_hidden_states', 'float32', ['batch_size', 'seq_len', 32]);
  g.input('timestep', 'float32', ['batch_size']);
  g.output('unified_results', 'float32', [16, 'num_frames', 'height', 'width']);
  g.op('Squeeze', ['hidden_states', g.i64('axis0', [1], [0])], {}, 'unified_results');
  return g.encode();
}

/**
 * Moves the named initializers of a serialized model into external-data files (`moves`: initializer → shard
 * file name, relative to the .onnx). Returns the new model and each shard's bytes (tensors appended in order).
 */
export function externalize(model: Uint8Array, moves: ReadonlyArray<readonly [string, string]>): { model: Uint8Array; shards: Map<string, Buffer> } {
  const m = onnxProto.onnx.ModelProto.decode(model);
  const parts = new Map<string, Buffer[]>();
  for (const [name, shard] of moves) {
    const t = m.graph!.initializer!.find((i) => i.name === name);
    if (!t) throw new Error(`no initializer ${name}`);
    const bytes = Buffer.from(t.rawData!);
    const list = parts.get(shard) ?? [];
    const offset = list.reduce((n, b) => n + b.length, 0);
    list.push(bytes);
    parts.set(shard, list);
    t.rawData = new Uint8Array(0);
    t.dataLocation = onnxProto.onnx.TensorProto.DataLocation.EXTERNAL;
    t.externalData = [{ key: 'location', value: shard }, { key: 'offset', value: String(offset) }, { key: 'length', value: String(bytes.length) }];
  }
  return { model: onnxProto.onnx.ModelProto.encode(m).finish(), shards: new Map([...parts].map(([k, v]) => [k, Buffer.concat(v)])) };
}
