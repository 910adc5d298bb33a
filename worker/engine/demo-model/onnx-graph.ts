/**
 * A small helper over onnx-proto for writing ONNX graphs by hand (demo model and full-size replica): typed
 * inputs/outputs with symbolic dims, initializers as raw little-endian bytes (float16/float32/int64/int32/
 * uint8/int4), ai.onnx and com.microsoft nodes with several outputs, and — when an external-data sink is given —
 * large initializers written to `.onnx_data` shards instead of the .onnx file.
 */
import onnxProto from 'onnx-proto';
import { float32ToFloat16 } from '../fp16.js';
import { gaussianNoise } from '../noise.js';
import type { ExternalDataSink } from './external-data.js';

const { onnx } = onnxProto;
/** Attribute value: integer, `{ float }`, string, ints (number[]) or floats (Float32Array). */
export type AttrValue = number | { float: number } | string | number[] | Float32Array;

export const OPSET = 17;
export const MS_DOMAIN = 'com.microsoft';
export type ElemType = 'float16' | 'float32' | 'int64' | 'bool';
const ELEM: Record<ElemType, number> = {
  float16: onnx.TensorProto.DataType.FLOAT16,
  float32: onnx.TensorProto.DataType.FLOAT,
  int64: onnx.TensorProto.DataType.INT64,
  bool: onnx.TensorProto.DataType.BOOL,
};
/** TensorProto data types by number (onnx-proto's enum predates INT4 = 22). */
export const DTYPE = { float32: 1, uint8: 2, int32: 6, int64: 7, bool: 9, float16: 10, int4: 22 } as const;

/** A dimension: a fixed size or a symbolic name (`dimParam`). */
export type Dim = number | string;

export interface GraphOptions {
  /** ai.onnx opset; default 17. The int4 text encoder uses 21 (INT4 tensors). */
  opset?: number;
  /** IR version; default 8 (10 with opset 21). */
  irVersion?: number;
  /** Where initializers above its threshold go (full-size replica); default: all inline. */
  external?: ExternalDataSink;
}

export class GraphBuilder {
  private readonly nodes: onnxProto.onnx.INodeProto[] = [];
  private readonly inits: onnxProto.onnx.ITensorProto[] = [];
  private readonly inputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly outputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly names = new Set<string>();
  private counter = 0;
  private usesContrib = false;

  constructor(private readonly name: string, private readonly opts: GraphOptions = {}) {}

  input(name: string, type: ElemType, dims: Dim[]): string {
    this.inputs.push(valueInfo(name, type, dims));
    return name;
  }

  output(name: string, type: ElemType, dims: Dim[]): string {
    this.outputs.push(valueInfo(name, type, dims));
    return name;
  }

  /** Adds an ai.onnx node; returns its (first) output name. Pass `outName` to name it (e.g. a graph output). */
  op(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outName?: string): string {
    return this.node(opType, inputs, attrs, [outName ?? this.fresh(opType)], '')[0]!;
  }

  /** Adds a com.microsoft node. */
  ms(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outName?: string): string {
    return this.msN(opType, inputs, attrs, 1, outName ? [outName] : undefined)[0]!;
  }

  /**
   * A node with `count` outputs (ai.onnx when `domain` is ''): returns their names; `''` in `names` leaves an
   * optional output unused (e.g. SkipSimplifiedLayerNormalization's mean and inv_std_var).
   */
  msN(opType: string, inputs: string[], attrs: Record<string, AttrValue>, count: number, names?: string[], domain = MS_DOMAIN): string[] {
    const outs = Array.from({ length: count }, (_, i) => names?.[i] ?? this.fresh(`${opType}_o${i}`));
    return this.node(opType, inputs, attrs, outs, domain);
  }

  private node(opType: string, inputs: string[], attrs: Record<string, AttrValue>, outputs: string[], domain: string): string[] {
    if (domain === MS_DOMAIN) this.usesContrib = true;
    this.nodes.push(onnx.NodeProto.create({
      opType, input: inputs, output: outputs, name: `${opType}_${this.counter++}`, ...(domain ? { domain } : {}),
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    }));
    return outputs;
  }

  private fresh(prefix: string): string {
    return `${prefix.toLowerCase()}_${this.counter++}`;
  }

  /** An initializer from raw little-endian bytes (`dtype` a TensorProto data type number). */
  raw(name: string, dims: number[], dtype: number, bytes: Uint8Array): string {
    if (this.names.has(name)) throw new Error(`duplicate initializer ${name}`);
    this.names.add(name);
    const sink = this.opts.external;
    if (sink && bytes.byteLength > sink.threshold) {
      const where = sink.write(bytes);
      this.inits.push(onnx.TensorProto.create({
        name, dims, dataType: dtype, dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
        externalData: [
          { key: 'location', value: where.location }, { key: 'offset', value: String(where.offset) }, { key: 'length', value: String(bytes.byteLength) },
        ],
      }));
    } else {
      this.inits.push(onnx.TensorProto.create({ name, dims, dataType: dtype, rawData: bytes }));
    }
    return name;
  }

  f16(name: string, dims: number[], values: ArrayLike<number>): string {
    return this.f16Bits(name, dims, float32ToFloat16(values));
  }

  f16Bits(name: string, dims: number[], bits: Uint16Array): string {
    return this.raw(name, dims, DTYPE.float16, new Uint8Array(bits.buffer, bits.byteOffset, bits.byteLength));
  }

  f32(name: string, dims: number[], values: ArrayLike<number>): string {
    const data = Float32Array.from(values);
    return this.raw(name, dims, DTYPE.float32, new Uint8Array(data.buffer));
  }

  i64(name: string, dims: number[], values: number[]): string {
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    return this.raw(name, dims, DTYPE.int64, new Uint8Array(data.buffer));
  }

  /** A name for a scalar/1-D int64 constant, created once per value list. */
  ints(values: number[], scalar = false): string {
    const name = `c_i64_${scalar ? 's' : 'v'}_${values.join('_').replace(/-/g, 'm')}`;
    return this.names.has(name) ? name : this.i64(name, scalar ? [] : [values.length], values);
  }

  /** Same for a float16 scalar (broadcasts in fp16 arithmetic). */
  half(value: number): string {
    const name = `c_f16_${String(value).replace(/[-.]/g, (c) => (c === '-' ? 'm' : 'p'))}`;
    return this.names.has(name) ? name : this.f16(name, [], [value]);
  }

  /** Serialized ModelProto. */
  encode(): Uint8Array {
    const opset = this.opts.opset ?? OPSET;
    const model = onnx.ModelProto.create({
      irVersion: this.opts.irVersion ?? (opset >= 21 ? 10 : 8),
      producerName: 'zimage-bot model builder',
      opsetImport: [
        onnx.OperatorSetIdProto.create({ domain: '', version: opset }),
        ...(this.usesContrib ? [onnx.OperatorSetIdProto.create({ domain: MS_DOMAIN, version: 1 })] : []),
      ],
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
