import { describe, expect, it } from 'vitest';
import { makeSchedule, referenceSchedule, shiftSigma, webnnSchedule } from '../../worker/engine/schedule.js';

const close = (actual: Float64Array, expected: number[]): void => {
  expect(actual.length).toBe(expected.length);
  expected.forEach((v, i) => expect(actual[i]).toBeCloseTo(v, 4));
};

describe('reference schedule (diffusers ZImagePipeline / Tongyi, shift 3)', () => {
  it('N=8 matches ZIMAGE_ONNX.md §3', () => {
    const s = referenceSchedule(8);
    close(s.sigmas, [1, 0.9545, 0.9, 0.8333, 0.75, 0.6429, 0.5, 0.3]);
    close(s.nextSigmas, [0.9545, 0.9, 0.8333, 0.75, 0.6429, 0.5, 0.3, 0]);
    close(s.timesteps, [0, 0.0455, 0.1, 0.1667, 0.25, 0.3571, 0.5, 0.7]);
  });

  it('N=9 gives 9 real steps over linspace(1, 0, 10)', () => {
    const s = referenceSchedule(9);
    close(s.sigmas, [1, 0.96, 0.913, 0.8571, 0.7895, 0.7059, 0.6, 0.4615, 0.2727]);
    close(s.nextSigmas, [0.96, 0.913, 0.8571, 0.7895, 0.7059, 0.6, 0.4615, 0.2727, 0]);
    close(s.timesteps, [0, 0.04, 0.087, 0.1429, 0.2105, 0.2941, 0.4, 0.5385, 0.7273]);
  });

  it('every step has dt < 0 and ends at σ = 0 for N in 1..16', () => {
    for (let n = 1; n <= 16; n++) {
      const s = referenceSchedule(n);
      expect(s.sigmas[0]).toBe(1);
      expect(s.nextSigmas[n - 1]).toBe(0);
      for (let i = 0; i < n; i++) {
        expect(s.nextSigmas[i]!).toBeLessThan(s.sigmas[i]!);
        expect(s.timesteps[i]).toBeCloseTo(1 - s.sigmas[i]!, 12);
        expect(s.sigmas[i]).toBeCloseTo(shiftSigma(1 - i / n), 12);
      }
    }
  });

  it('rejects steps outside 1..16', () => {
    expect(() => referenceSchedule(0)).toThrow(RangeError);
    expect(() => referenceSchedule(17)).toThrow(RangeError);
    expect(() => webnnSchedule(2.5)).toThrow(RangeError);
  });
});

describe('WebNN/ONNX helper schedule (σ_min* quirk, last timestep forced to 1)', () => {
  it('N=9 matches ZIMAGE_ONNX.md §3', () => {
    const s = webnnSchedule(9);
    close(s.sigmas, [1, 0.9547, 0.9004, 0.834, 0.7511, 0.6447, 0.503, 0.305, 0.0089]);
    close(s.nextSigmas, [0.9547, 0.9004, 0.834, 0.7511, 0.6447, 0.503, 0.305, 0.0089, 0]);
    close(s.timesteps, [0, 0.0453, 0.0996, 0.166, 0.2489, 0.3553, 0.497, 0.695, 1]);
  });

  it('N=8', () => {
    const s = webnnSchedule(8);
    close(s.sigmas, [1, 0.9475, 0.8828, 0.8008, 0.6938, 0.548, 0.338, 0.0089]);
    close(s.nextSigmas, [0.9475, 0.8828, 0.8008, 0.6938, 0.548, 0.338, 0.0089, 0]);
    close(s.timesteps, [0, 0.0525, 0.1172, 0.1992, 0.3062, 0.452, 0.662, 1]);
  });

  it('last step: σ = f(σ_min*) = 0.0089, σ_next forced to 0, t forced to 1', () => {
    for (const n of [3, 5, 9, 16]) {
      const s = webnnSchedule(n);
      expect(s.sigmas[n - 1]).toBeCloseTo(shiftSigma(shiftSigma(0.001)), 10);
      expect(s.nextSigmas[n - 1]).toBe(0);
      expect(s.timesteps[n - 1]).toBe(1);
    }
    expect(shiftSigma(0.001)).toBeCloseTo(0.002994, 6);
  });

  it('makeSchedule selects by kind', () => {
    expect(makeSchedule('webnn', 9).kind).toBe('webnn');
    expect(makeSchedule('reference', 8).sigmas[1]).toBeCloseTo(0.9545, 4);
  });
});
