/**
 * Weight sources for the hand-built graphs, in the layouts of the real export's kernels:
 * - MatMulNBits (4-bit, block 32, symmetric: no zero_points → zero point 8): B is uint8 [N, K/32, 16], column n's
 *   block b holds W[32b + j, n], two per byte (low nibble first); scales float16 [N · K/32];
 * - GatherBlockQuantized (int4 data [rows, cols], signed, blocks of 32 along the row; scales float16 [rows, cols/32]).
 * `DemoWeights` quantizes deterministic Gaussian weights properly (the demo's pictures depend on them);
 * `RandomWeights` writes random nibbles and flat scales straight away, fast enough for 6 GB (full-size replica).
 */
import { float32ToFloat16 } from '../fp16.js';
import { demoWeights } from './onnx-graph.js';

export const BLOCK = 32;

export interface QuantizedMatrix {
  /** MatMulNBits B (uint8 [N, K/32, 16]) or GatherBlockQuantized int4 data (packed, row-major). */
  packed: Uint8Array;
  /** float16 bits, one per block. */
  scales: Uint16Array;
}

export interface WeightSource {
  /** K×N weight (y = x·W) for MatMulNBits, entries ~ N(0, std²). */
  nbits(K: number, N: number, std: number): QuantizedMatrix;
  /** rows×cols int4 table for GatherBlockQuantized (quantized along cols). */
  int4Table(rows: number, cols: number, std: number): QuantizedMatrix;
  /** Dense float16 tensor of `count` values ~ N(0, std²), as bits. */
  dense(count: number, std: number): Uint16Array;
}

function blocks(K: number): number {
  if (K % BLOCK !== 0) throw new Error(`4-bit weights need K a multiple of ${BLOCK}, got ${K}`);
  return K / BLOCK;
}

/** Symmetric 4-bit quantization of W [K, N] (row-major) into the MatMulNBits layout. */
export function quantizeNBits(w: Float32Array, K: number, N: number): QuantizedMatrix & { dequantized: Float32Array } {
  const nb = blocks(K);
  const packed = new Uint8Array(N * nb * (BLOCK / 2));
  const scales = new Float32Array(N * nb);
  const dequantized = new Float32Array(K * N);
  for (let n = 0; n < N; n++) {
    for (let b = 0; b < nb; b++) {
      let amax = 0;
      for (let j = 0; j < BLOCK; j++) amax = Math.max(amax, Math.abs(w[(b * BLOCK + j) * N + n]!));
      const scale = amax > 0 ? amax / 7 : 1;
      scales[n * nb + b] = scale;
      for (let j = 0; j < BLOCK; j++) {
        const k = b * BLOCK + j;
        const q = Math.max(-8, Math.min(7, Math.round(w[k * N + n]! / scale)));
        dequantized[k * N + n] = q * scale;
        const at = (n * nb + b) * (BLOCK / 2) + (j >> 1);
        packed[at] = packed[at]! | ((q + 8) << ((j & 1) * 4));
      }
    }
  }
  return { packed, scales: float32ToFloat16(scales), dequantized };
}

/** Signed int4 quantization of a rows×cols table, blocks of 32 along each row. */
export function quantizeInt4Table(t: Float32Array, rows: number, cols: number): QuantizedMatrix {
  const nb = blocks(cols);
  const packed = new Uint8Array((rows * cols) / 2);
  const scales = new Float32Array(rows * nb);
  for (let r = 0; r < rows; r++) {
    for (let b = 0; b < nb; b++) {
      let amax = 0;
      for (let j = 0; j < BLOCK; j++) amax = Math.max(amax, Math.abs(t[r * cols + b * BLOCK + j]!));
      const scale = amax > 0 ? amax / 7 : 1;
      scales[r * nb + b] = scale;
      for (let j = 0; j < BLOCK; j++) {
        const i = r * cols + b * BLOCK + j;
        const q = Math.max(-8, Math.min(7, Math.round(t[i]! / scale)));
        packed[i >> 1] = packed[i >> 1]! | ((q & 0xf) << ((i & 1) * 4));
      }
    }
  }
  return { packed, scales: float32ToFloat16(scales) };
}

/** Deterministic Gaussian weights, one stream per call (seeded from `seed` and the call number). */
export class DemoWeights implements WeightSource {
  private calls = 0;
  constructor(private readonly seed: number) {}

  private next(count: number, std: number): Float32Array {
    return demoWeights(this.seed * 1000 + this.calls++, count, std);
  }

  nbits(K: number, N: number, std: number): QuantizedMatrix {
    const { packed, scales } = quantizeNBits(this.next(K * N, std), K, N);
    return { packed, scales };
  }

  int4Table(rows: number, cols: number, std: number): QuantizedMatrix {
    return quantizeInt4Table(this.next(rows * cols, std), rows, cols);
  }

  dense(count: number, std: number): Uint16Array {
    return float32ToFloat16(this.next(count, std));
  }
}

/** Fast random weights of the right magnitude (values carry no meaning; shapes, bytes and compute do). */
export class RandomWeights implements WeightSource {
  private state: number;
  constructor(seed: number) { this.state = (seed >>> 0) || 0x9e3779b9; }

  private fill(bytes: Uint8Array): void {
    const words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2);
    let s = this.state;
    for (let i = 0; i < words.length; i++) {
      s ^= s << 13; s ^= s >>> 17; s ^= s << 5; // xorshift32
      words[i] = s >>> 0;
    }
    for (let i = words.length * 4; i < bytes.length; i++) { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; bytes[i] = s & 0xff; }
    this.state = s >>> 0;
  }

  /** Random nibbles have std ≈ 4.6 around the zero point: the scale brings the product to `std`. */
  private quantized(bytes: number, nScales: number, std: number): QuantizedMatrix {
    const packed = new Uint8Array(bytes);
    this.fill(packed);
    return { packed, scales: new Uint16Array(nScales).fill(float32ToFloat16([std / 4.6])[0]!) };
  }

  nbits(K: number, N: number, std: number): QuantizedMatrix {
    return this.quantized(N * blocks(K) * (BLOCK / 2), N * blocks(K), std);
  }

  int4Table(rows: number, cols: number, std: number): QuantizedMatrix {
    return this.quantized((rows * cols) / 2, rows * blocks(cols), std);
  }

  dense(count: number, std: number): Uint16Array {
    // A random 64 Ki-value tile repeated: cheap for the 100 M+ values of the adaLN and VAE weights.
    const tile = float32ToFloat16(Float32Array.from({ length: Math.min(count, 65536) }, () => {
      this.state ^= this.state << 13; this.state ^= this.state >>> 17; this.state ^= this.state << 5; this.state >>>= 0;
      return ((this.state / 0xffffffff) - 0.5) * std * Math.sqrt(12);
    }));
    const out = new Uint16Array(count);
    for (let i = 0; i < count; i += tile.length) out.set(tile.subarray(0, Math.min(tile.length, count - i)), i);
    return out;
  }
}
