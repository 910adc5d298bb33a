import { describe, expect, it } from 'vitest';
import { float16ToFloat32, float32ToFloat16, floatToHalfBits, halfBitsToFloat } from '../../worker/engine/fp16.js';

describe('float16 conversion', () => {
  it('round-trips all 65 536 half values (NaNs stay NaN)', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const f32 = float16ToFloat32(all);
    const back = float32ToFloat16(f32);
    for (let i = 0; i < 65536; i++) {
      const isNaN = (i & 0x7c00) === 0x7c00 && (i & 0x3ff) !== 0;
      if (isNaN) {
        expect(Number.isNaN(f32[i])).toBe(true);
        expect(back[i]! & 0x7c00).toBe(0x7c00);
        expect(back[i]! & 0x3ff).not.toBe(0);
      } else {
        expect(back[i]).toBe(i);
      }
    }
  });

  it('encodes known values', () => {
    expect(floatToHalfBits(1)).toBe(0x3c00);
    expect(floatToHalfBits(-2)).toBe(0xc000);
    expect(floatToHalfBits(0.5)).toBe(0x3800);
    expect(floatToHalfBits(65504)).toBe(0x7bff);
    expect(floatToHalfBits(0)).toBe(0x0000);
    expect(floatToHalfBits(-0)).toBe(0x8000);
    expect(floatToHalfBits(1 / 3)).toBe(0x3555);
  });

  it('rounds to nearest, ties to even', () => {
    const ulp = 2 ** -10; // spacing of halves in [1, 2)
    expect(floatToHalfBits(1 + ulp / 2)).toBe(0x3c00); // tie → even (mantissa 0)
    expect(floatToHalfBits(1 + ulp * 1.5)).toBe(0x3c02); // tie → even (mantissa 2)
    expect(floatToHalfBits(1 + ulp / 2 + 2 ** -20)).toBe(0x3c01); // just above the tie
    expect(floatToHalfBits(1 + ulp / 2 - 2 ** -20)).toBe(0x3c00); // just below
    expect(floatToHalfBits(2047.5 * 2 ** -10 * 2)).toBe(floatToHalfBits(4)); // mantissa carry into the exponent
  });

  it('handles subnormals and underflow', () => {
    const tiny = 2 ** -24; // smallest subnormal
    expect(floatToHalfBits(tiny)).toBe(0x0001);
    expect(floatToHalfBits(tiny * 1023)).toBe(0x03ff); // largest subnormal
    expect(floatToHalfBits(2 ** -14)).toBe(0x0400); // smallest normal
    expect(floatToHalfBits(tiny / 2)).toBe(0x0000); // exact tie to 0 (even)
    expect(floatToHalfBits(tiny * 0.75)).toBe(0x0001);
    expect(floatToHalfBits(tiny * 2.5)).toBe(0x0002); // tie → even
    expect(floatToHalfBits(tiny * 3.5)).toBe(0x0004); // tie → even
    expect(floatToHalfBits(-tiny * 0.25)).toBe(0x8000);
    expect(floatToHalfBits(1e-30)).toBe(0);
    expect(halfBitsToFloat(0x0001)).toBe(tiny);
    expect(halfBitsToFloat(0x83ff)).toBe(-tiny * 1023);
  });

  it('saturates to infinity and keeps NaN', () => {
    expect(floatToHalfBits(65520)).toBe(0x7c00); // rounds up past max half
    expect(floatToHalfBits(65519)).toBe(0x7bff);
    expect(floatToHalfBits(1e10)).toBe(0x7c00);
    expect(floatToHalfBits(-Infinity)).toBe(0xfc00);
    expect(floatToHalfBits(Infinity)).toBe(0x7c00);
    const nan = floatToHalfBits(NaN);
    expect(nan & 0x7c00).toBe(0x7c00);
    expect(nan & 0x3ff).not.toBe(0);
    expect(halfBitsToFloat(0x7c00)).toBe(Infinity);
    expect(halfBitsToFloat(0xfc00)).toBe(-Infinity);
    expect(halfBitsToFloat(0x7e00)).toBeNaN();
  });

  it('matches exact rounding on random float32 values', () => {
    // Reference: choose the nearer of the two neighbouring halves; ties to the even bit pattern.
    const halves = float16ToFloat32(new Uint16Array(0x7c00).map((_, i) => i)); // non-negative finite halves
    let seed = 12345;
    for (let n = 0; n < 20000; n++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const v = Math.fround((seed / 2 ** 32) * 70000 * 2 ** -(seed % 26));
      let lo = 0;
      let hi = halves.length - 1;
      while (hi - lo > 1) { const mid = (lo + hi) >> 1; if (halves[mid]! <= v) lo = mid; else hi = mid; }
      let expected: number;
      if (v >= 65520) expected = 0x7c00;
      else if (v - halves[lo]! < halves[hi]! - v) expected = lo;
      else if (v - halves[lo]! > halves[hi]! - v) expected = hi;
      else expected = lo % 2 === 0 ? lo : hi;
      if (v >= halves[hi]!) expected = v >= 65520 ? 0x7c00 : hi;
      expect(floatToHalfBits(v)).toBe(expected);
    }
  });
});
