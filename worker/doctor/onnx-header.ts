/**
 * A graph's signature read straight from the .onnx protobuf without loading its weights: the file is walked
 * field by field with positional reads (ModelProto → graph → input/output/node), initializers are skipped by
 * their length prefix, external-data shards are never opened. Gives what the v2 contract check needs
 * (contract.ts `checkGraph`, same PortMetadata as a session reports) plus opsets and the operators used.
 */
import { open, type FileHandle } from 'node:fs/promises';
import onnxProto from 'onnx-proto';
import type { PortMetadata } from '../engine/contract.js';

const { onnx } = onnxProto;

export interface GraphHeader {
  irVersion: number;
  opsets: Record<string, number>;
  inputs: PortMetadata[];
  outputs: PortMetadata[];
  /** `domain::OpType` (domain omitted for ai.onnx) → count. */
  ops: Record<string, number>;
}

/** Element type names as onnxruntime reports them. */
const TYPE_NAMES: Record<number, string> = { 1: 'float32', 2: 'uint8', 3: 'int8', 5: 'int16', 6: 'int32', 7: 'int64', 9: 'bool', 10: 'float16', 11: 'float64', 16: 'bfloat16' };

class Cursor {
  private buf = Buffer.alloc(0);
  private bufStart = 0;
  constructor(private readonly fh: FileHandle, readonly size: number) {}

  async bytes(pos: number, len: number): Promise<Buffer> {
    if (pos >= this.bufStart && pos + len <= this.bufStart + this.buf.length) return this.buf.subarray(pos - this.bufStart, pos - this.bufStart + len);
    const want = Math.max(len, 1 << 20);
    const b = Buffer.alloc(Math.min(want, this.size - pos));
    const { bytesRead } = await this.fh.read(b, 0, b.length, pos);
    if (bytesRead < len) throw new Error(`truncated protobuf at byte ${pos}`);
    this.buf = b.subarray(0, bytesRead);
    this.bufStart = pos;
    return this.buf.subarray(0, len);
  }

  /** Reads a varint at `pos`; returns [value, next position]. */
  async varint(pos: number): Promise<[number, number]> {
    const b = await this.bytes(pos, Math.min(10, this.size - pos));
    let value = 0;
    let mul = 1;
    for (let i = 0; i < b.length; i++) {
      value += (b[i]! & 0x7f) * mul;
      if ((b[i]! & 0x80) === 0) return [value, pos + i + 1];
      mul *= 128;
    }
    throw new Error(`bad varint at byte ${pos}`);
  }
}

/** Walks the fields of a message in [start, end): calls `onField(field, wireType, valueStart, valueEnd)`. */
async function walk(c: Cursor, start: number, end: number, onField: (field: number, wire: number, from: number, to: number) => Promise<void>): Promise<void> {
  let pos = start;
  while (pos < end) {
    const [key, afterKey] = await c.varint(pos);
    const field = Math.floor(key / 8);
    const wire = key & 7;
    let from = afterKey;
    let to: number;
    if (wire === 0) to = (await c.varint(afterKey))[1];
    else if (wire === 1) to = afterKey + 8;
    else if (wire === 5) to = afterKey + 4;
    else if (wire === 2) { const [len, p] = await c.varint(afterKey); from = p; to = p + len; }
    else throw new Error(`unsupported protobuf wire type ${wire} at byte ${pos}`);
    if (to > end) throw new Error(`field ${field} overruns its message at byte ${pos}`);
    await onField(field, wire, from, to);
    pos = to;
  }
}

function port(v: onnxProto.onnx.ValueInfoProto): PortMetadata {
  const t = v.type?.tensorType;
  if (!t) return { name: v.name, isTensor: false };
  const shape = (t.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : d.dimValue !== undefined && d.dimValue !== null ? Number(d.dimValue) : -1));
  return { name: v.name, isTensor: true, type: TYPE_NAMES[t.elemType ?? 0] ?? `type${t.elemType}`, shape };
}

export async function readGraphHeader(path: string): Promise<GraphHeader> {
  const fh = await open(path, 'r');
  try {
    const c = new Cursor(fh, (await fh.stat()).size);
    const header: GraphHeader = { irVersion: 0, opsets: {}, inputs: [], outputs: [], ops: {} };
    let sawGraph = false;
    await walk(c, 0, c.size, async (field, wire, from, to) => {
      if (field === 1 && wire === 0) header.irVersion = (await c.varint(from))[0];
      if (field === 8 && wire === 2) {
        const o = onnx.OperatorSetIdProto.decode(await c.bytes(from, to - from));
        header.opsets[o.domain || 'ai.onnx'] = Number(o.version);
      }
      if (field !== 7 || wire !== 2) return;
      sawGraph = true;
      await walk(c, from, to, async (gf, gw, gFrom, gTo) => {
        if (gw !== 2) return;
        if (gf === 11) header.inputs.push(port(onnx.ValueInfoProto.decode(await c.bytes(gFrom, gTo - gFrom))));
        else if (gf === 12) header.outputs.push(port(onnx.ValueInfoProto.decode(await c.bytes(gFrom, gTo - gFrom))));
        else if (gf === 1) {
          const n = onnx.NodeProto.decode(await c.bytes(gFrom, gTo - gFrom));
          const key = n.domain && n.domain !== 'ai.onnx' ? `${n.domain}::${n.opType}` : n.opType;
          header.ops[key] = (header.ops[key] ?? 0) + 1;
        }
      });
    });
    if (!sawGraph) throw new Error('no graph in this file (not an ONNX model?)');
    return header;
  } finally {
    await fh.close();
  }
}
