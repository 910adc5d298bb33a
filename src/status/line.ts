/**
 * The line: every generation job that has not finished, in processing order. Pure functions over a
 * snapshot so that positions and ETAs are unit-testable; `readLine` (line-reader.ts) takes the snapshot.
 */
import type { GenerateParams, GenerateProgress } from '../jobs/types.js';

export interface LineJob {
  id: string;
  /** Work units of the job (see workUnits). */
  units: number;
}

export interface ActiveJob extends LineJob {
  progress: GenerateProgress | null;
  /** Steps and images of the job (for the status before its first progress report). */
  steps: number;
  count: number;
}

export interface LineSnapshot {
  /** Jobs running on some worker (any order). */
  active: ActiveJob[];
  /** Jobs waiting, in the exact order workers will take them. */
  waiting: LineJob[];
}

export interface Place {
  /** 1-based: the number of jobs ahead (including running ones) plus one. */
  position: number;
  /** Everything in the line: running and waiting. */
  total: number;
  /** Work units ahead of this job that still have to run (running jobs count their remaining part). */
  unitsAhead: number;
}

/** Work of one job in megapixel-steps: the unit the rolling speed estimate is kept in. */
export function workUnits(p: Pick<GenerateParams, 'width' | 'height' | 'steps' | 'count'>): number {
  return (p.width * p.height / 1_000_000) * p.steps * p.count;
}

/** Fraction of a running job still to do, from its progress. */
export function remainingFraction(progress: GenerateProgress | null): number {
  if (!progress || progress.count <= 0 || progress.steps <= 0) return 1;
  const done = (progress.image - 1 + progress.step / progress.steps) / progress.count;
  return Math.min(1, Math.max(0, 1 - done));
}

/** Position of every waiting job. Running jobs are ahead of every waiting one. */
export function placesInLine(line: LineSnapshot): Map<string, Place> {
  const total = line.active.length + line.waiting.length;
  let unitsAhead = line.active.reduce((sum, j) => sum + j.units * remainingFraction(j.progress), 0);
  const places = new Map<string, Place>();
  line.waiting.forEach((job, i) => {
    places.set(job.id, { position: line.active.length + i + 1, total, unitsAhead });
    unitsAhead += job.units;
  });
  return places;
}

/**
 * Estimated time until a waiting job is finished: the work ahead is shared by the live workers,
 * then the job's own work runs on one of them. Null while there is no speed estimate or no worker.
 */
export function estimateMs(place: Pick<Place, 'unitsAhead'>, ownUnits: number, msPerUnit: number | null, workers: number): number | null {
  if (msPerUnit === null || !(msPerUnit > 0) || workers < 1) return null;
  return Math.round((place.unitsAhead / workers + ownUnits) * msPerUnit);
}
