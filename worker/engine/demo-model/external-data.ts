/**
 * External-data shards laid out like the v2 export (ZIMAGE_ONNX.md §0): tensors above 1 MiB leave the .onnx
 * file for `<model>.onnx_data`, then `<model>.onnx_data_1`, … each at most int(1.9·2^30) bytes; a tensor never
 * spans two shards. Bytes are written as the graph is built, so a 6 GB model never sits in memory.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const SHARD_CAP = Math.floor(1.9 * 2 ** 30);
export const INLINE_LIMIT = 1 << 20;
/** Tensor offsets are page-aligned so onnxruntime can map them. */
const ALIGN = 4096;

export interface ShardedLayout {
  /** Bytes per shard; default SHARD_CAP. */
  shardCap?: number;
  /** Tensors up to this many bytes stay inline; default INLINE_LIMIT. */
  threshold?: number;
}

export class ExternalDataSink {
  readonly threshold: number;
  private readonly cap: number;
  private readonly shards: Array<{ name: string; fd: number; bytes: number }> = [];

  constructor(private readonly dir: string, private readonly modelFile: string, layout: ShardedLayout = {}) {
    this.cap = layout.shardCap ?? SHARD_CAP;
    this.threshold = layout.threshold ?? INLINE_LIMIT;
  }

  /** Appends one tensor's bytes; returns the shard file name and offset to record in the TensorProto. */
  write(bytes: Uint8Array): { location: string; offset: number } {
    let shard = this.shards.at(-1);
    const padded = shard ? Math.ceil(shard.bytes / ALIGN) * ALIGN : 0;
    if (!shard || (shard.bytes > 0 && padded + bytes.byteLength > this.cap)) {
      const k = this.shards.length;
      const name = k === 0 ? `${this.modelFile}_data` : `${this.modelFile}_data_${k}`;
      shard = { name, fd: openSync(join(this.dir, name), 'w'), bytes: 0 };
      this.shards.push(shard);
    } else if (padded > shard.bytes) {
      writeSync(shard.fd, new Uint8Array(padded - shard.bytes));
      shard.bytes = padded;
    }
    const offset = shard.bytes;
    for (let done = 0; done < bytes.byteLength;) done += writeSync(shard.fd, bytes, done);
    shard.bytes += bytes.byteLength;
    return { location: shard.name, offset };
  }

  /** Closes the shard files; returns their names and sizes. */
  close(): Array<{ name: string; bytes: number }> {
    for (const s of this.shards) closeSync(s.fd);
    return this.shards.map(({ name, bytes }) => ({ name, bytes }));
  }
}
