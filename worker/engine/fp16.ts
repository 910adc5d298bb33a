/**
 * IEEE-754 binary16 ⇄ binary32 conversion. Node 20 has no Float16Array, and onnxruntime-node wants float16
 * tensors as Uint16Array of half-precision bit patterns. float32 → float16 rounds to nearest, ties to even,
 * produces subnormals, saturates to ±inf on overflow and keeps NaN a (quiet) NaN.
 */

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** Half bits of a float32 value, round-to-nearest-even. */
export function floatToHalfBits(value: number): number {
  scratchF32[0] = value;
  const x = scratchU32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) {
    // inf stays inf; NaN keeps its top payload bits and is forced quiet so it never becomes inf.
    return mant === 0 ? sign | 0x7c00 : sign | 0x7e00 | (mant >>> 13);
  }
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half (or zero): value = m · 2^-24 with m = M · 2^(e−14), M the 24-bit significand.
    const shift = 14 - e;
    if (shift > 25) return sign;
    const full = mant | 0x800000;
    let m = full >>> shift;
    const rem = full & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (m & 1) === 1)) m += 1;
    return sign | m;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) === 1)) h += 1; // a carry may roll into the exponent (up to inf): correct.
  return sign | h;
}

/** float32 value of half bits (exact). */
export function halfBitsToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

let decodeTable: Float32Array | undefined;
function table(): Float32Array {
  if (!decodeTable) {
    decodeTable = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) decodeTable[i] = halfBitsToFloat(i);
  }
  return decodeTable;
}

/** Converts a float32 array to half bits. `out` may be passed to avoid an allocation. */
export function float32ToFloat16(src: ArrayLike<number>, out: Uint16Array = new Uint16Array(src.length)): Uint16Array {
  if (out.length < src.length) throw new RangeError(`float32ToFloat16: output holds ${out.length}, need ${src.length}`);
  for (let i = 0; i < src.length; i++) out[i] = floatToHalfBits(src[i]!);
  return out;
}

/** Converts half bits to float32. `out` may be passed to avoid an allocation. */
export function float16ToFloat32(src: Uint16Array, out: Float32Array = new Float32Array(src.length)): Float32Array {
  if (out.length < src.length) throw new RangeError(`float16ToFloat32: output holds ${out.length}, need ${src.length}`);
  const t = table();
  for (let i = 0; i < src.length; i++) out[i] = t[src[i]!]!;
  return out;
}
