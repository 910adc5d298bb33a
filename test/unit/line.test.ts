import { describe, expect, it } from 'vitest';
import { estimateMs, placesInLine, remainingFraction, workUnits, type LineSnapshot } from '../../src/status/line.js';

const job = (id: string, units = 1) => ({ id, units });

describe('positions in line', () => {
  it('counts running jobs ahead of every waiting one, in processing order', () => {
    const line: LineSnapshot = {
      active: [{ ...job('a'), progress: null, steps: 8, count: 1 }],
      waiting: [job('b'), job('c'), job('d')],
    };
    const places = placesInLine(line);
    expect(places.get('b')).toMatchObject({ position: 2, total: 4 });
    expect(places.get('d')).toMatchObject({ position: 4, total: 4 });
    expect(places.has('a')).toBe(false);
  });

  it('accumulates the work ahead, counting only the unfinished part of running jobs', () => {
    const line: LineSnapshot = {
      active: [{ id: 'a', units: 10, progress: { image: 1, count: 1, step: 4, steps: 8 }, steps: 8, count: 1 }],
      waiting: [job('b', 2), job('c', 3)],
    };
    const places = placesInLine(line);
    expect(places.get('b')!.unitsAhead).toBeCloseTo(5);
    expect(places.get('c')!.unitsAhead).toBeCloseTo(7);
  });

  it('an empty line has no places', () => {
    expect(placesInLine({ active: [], waiting: [] }).size).toBe(0);
  });
});

describe('work and progress', () => {
  it('work units are megapixel-steps times images', () => {
    expect(workUnits({ width: 1000, height: 1000, steps: 8, count: 2 })).toBeCloseTo(16);
  });

  it('remaining fraction follows image and step', () => {
    expect(remainingFraction(null)).toBe(1);
    expect(remainingFraction({ image: 1, count: 2, step: 4, steps: 8 })).toBeCloseTo(0.75);
    expect(remainingFraction({ image: 2, count: 2, step: 8, steps: 8 })).toBeCloseTo(0);
  });
});

describe('ETA', () => {
  it('shares the work ahead among live workers, then adds the job’s own work', () => {
    expect(estimateMs({ unitsAhead: 10 }, 2, 100, 1)).toBe(1200);
    expect(estimateMs({ unitsAhead: 10 }, 2, 100, 2)).toBe(700);
  });

  it('is unknown without a speed estimate or without a live worker', () => {
    expect(estimateMs({ unitsAhead: 10 }, 2, null, 1)).toBeNull();
    expect(estimateMs({ unitsAhead: 10 }, 2, 100, 0)).toBeNull();
  });
});
