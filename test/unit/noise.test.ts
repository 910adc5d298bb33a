import { describe, expect, it } from 'vitest';
import { gaussianNoise, mulberry32 } from '../../worker/engine/noise.js';

describe('seeded gaussian noise (mulberry32 + Box–Muller)', () => {
  it('mulberry32 is the published generator', () => {
    // First outputs of mulberry32(0) and mulberry32(1), as printed by the reference JS implementation.
    const r0 = mulberry32(0);
    expect(r0()).toBeCloseTo(0.26642920868471265, 15);
    expect(r0()).toBeCloseTo(0.0003297457005828619, 15);
    const r1 = mulberry32(1);
    expect(r1()).toBeCloseTo(0.6270739405881613, 15);
  });

  it('is deterministic per seed and differs between seeds', () => {
    const a = gaussianNoise(42, 1001);
    expect(gaussianNoise(42, 1001)).toEqual(a);
    expect(gaussianNoise(43, 1001)).not.toEqual(a);
    // Same stream regardless of length: a prefix of a longer draw.
    expect(gaussianNoise(42, 10)).toEqual(a.subarray(0, 10));
  });

  it('is standard normal', () => {
    const n = 200_000;
    const x = gaussianNoise(7, n);
    let sum = 0;
    let sq = 0;
    let within1 = 0;
    let finite = true;
    for (const v of x) { sum += v; sq += v * v; if (Math.abs(v) < 1) within1++; finite &&= Number.isFinite(v); }
    expect(finite).toBe(true);
    const mean = sum / n;
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(Math.sqrt(sq / n - mean * mean)).toBeCloseTo(1, 1);
    expect(within1 / n).toBeCloseTo(0.6827, 2);
  });

  it('treats seeds as uint32', () => {
    expect(gaussianNoise(2 ** 32 + 5, 4)).toEqual(gaussianNoise(5, 4));
    expect(gaussianNoise(0xffffffff, 4).every(Number.isFinite)).toBe(true);
  });
});
