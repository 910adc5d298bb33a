/**
 * A small helper over onnx-proto for writing ONNX graphs by hand (demo model only): typed inputs/outputs with
 * symbolic dims, float16/float32/int64 initializers as raw little-endian bytes, opset 17 (ai.onnx).
 */
import onnxProto from 'onnx-proto';
import { float32ToFloat16 } from '../fp16.js';
import { gaussianNoise } from '../noise.js';

const { onnx } = onnxProto;
/** Attribute value: integer, `{ float }`, string, ints (number[]) or floats (Float32Array). */
export type AttrValue = number | { float: number } | string | number[] | Float32Array;

export const OPSET = 17;
export type ElemType = 'float16' | 'float32' | 'int64' | 'bool';
const ELEM: Record<ElemType, number> = {
  float16: onnx.TensorProto.DataType.FLOAT16,
  float32: onnx.TensorProto.DataType.FLOAT,
  int64: onnx.TensorProto.DataType.INT64,
  bool: onnx.TensorProto.DataType.BOOL,
};

/** A dimension: a fixed size or a symbolic name (`dimParam`). */
export type Dim = number | string;

export class GraphBuilder {
  private readonly nodes: onnxProto.onnx.INodeProto[] = [];
  private readonly inits: onnxProto.onnx.ITensorProto[] = [];
  private readonly inputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly outputs: onnxProto.onnx.IValueInfoProto[] = [];
  private counter = 0;

  constructor(private readonly name: string) {}

  input(name: string, type: ElemType, dims: Dim[]): string {
    this.inputs.push(valueInfo(name, type, dims));
    return name;
  }

  output(name: string, type: ElemType, dims: Dim[]): string {
    this.outputs.push(valueInfo(name, type, dims));
    return name;
  }

  /** Adds a node; returns its (first) output name. Pass `outName` to name it (e.g. a graph output). */
  op(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outName?: string): string {
    const out = outName ?? `${opType.toLowerCase()}_${this.counter++}`;
    this.nodes.push(onnx.NodeProto.create({
      opType, input: inputs, output: [out], name: `${opType}_${this.counter++}`,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    }));
    return out;
  }

  f16(name: string, dims: number[], values: ArrayLike<number>): string {
    const bits = float32ToFloat16(values);
    this.inits.push(onnx.TensorProto.create({
      name, dims, dataType: ELEM.float16, rawData: new Uint8Array(bits.buffer, bits.byteOffset, bits.byteLength),
    }));
    return name;
  }

  f32(name: string, dims: number[], values: ArrayLike<number>): string {
    const data = Float32Array.from(values);
    this.inits.push(onnx.TensorProto.create({
      name, dims, dataType: ELEM.float32, rawData: new Uint8Array(data.buffer),
    }));
    return name;
  }

  i64(name: string, dims: number[], values: number[]): string {
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    this.inits.push(onnx.TensorProto.create({
      name, dims, dataType: ELEM.int64, rawData: new Uint8Array(data.buffer),
    }));
    return name;
  }

  /** Serialized ModelProto (ir 8, opset 17). */
  encode(): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'zimage-bot demo-model builder',
      opsetImport: [onnx.OperatorSetIdProto.create({ domain: '', version: OPSET })],
      graph: onnx.GraphProto.create({
        name: this.name, node: this.nodes, initializer: this.inits, input: this.inputs, output: this.outputs,
      }),
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

function valueInfo(name: string, type: ElemType, dims: Dim[]): onnxProto.onnx.IValueInfoProto {
  return onnx.ValueInfoProto.create({
    name,
    type: onnx.TypeProto.create({
      tensorType: onnx.TypeProto.Tensor.create({
        elemType: ELEM[type],
        shape: onnx.TensorShapeProto.create({
          dim: dims.map((d) => onnx.TensorShapeProto.Dimension.create(typeof d === 'number' ? { dimValue: d } : { dimParam: d })),
        }),
      }),
    }),
  });
}

function attribute(name: string, v: AttrValue): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'string') return onnx.AttributeProto.create({ name, type: T.STRING, s: new TextEncoder().encode(v) });
  if (typeof v === 'number') return onnx.AttributeProto.create({ name, type: T.INT, i: v });
  if (!Array.isArray(v) && !(v instanceof Float32Array)) return onnx.AttributeProto.create({ name, type: T.FLOAT, f: v.float });
  if (v instanceof Float32Array) return onnx.AttributeProto.create({ name, type: T.FLOATS, floats: [...v] });
  return onnx.AttributeProto.create({ name, type: T.INTS, ints: v });
}

/** Deterministic pseudo-random N(0, scale²) values for demo weights (the noise generator, another stream). */
export function demoWeights(seed: number, count: number, scale = 1): Float32Array {
  const out = gaussianNoise(seed, count);
  for (let i = 0; i < count; i++) out[i] = out[i]! * scale;
  return out;
}
