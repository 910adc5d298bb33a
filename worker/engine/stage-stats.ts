/** Per-stage timing totals (count, total ms) plus the transformer's busy window, for benchmarks and metrics. */

export type PipelineStage = 'tokenize' | 'encode' | 'step' | 'preprocess' | 'decode' | 'safety' | 'convert';

export interface StageTotals { count: number; totalMs: number }

export interface StageStatsSnapshot {
  stages: Partial<Record<PipelineStage, StageTotals>>;
  /** Σ transformer run time and the span from the first step's start to the last step's end (ms). */
  transformerBusyMs: number;
  transformerSpanMs: number;
  /** Σ time inside `session.run` (all graphs): wall − this = pipeline overhead. */
  sessionRunMs: number;
  textCache?: { hits: number; misses: number; entries: number; bytes: number };
}

/** Runs a session and books the time inside `run`. */
export async function timedRun<T>(stats: StageStats, run: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await run();
  } finally {
    stats.run(performance.now() - t0);
  }
}

export class StageStats {
  private stages: Partial<Record<PipelineStage, StageTotals>> = {};
  private firstStepStart: number | undefined;
  private lastStepEnd = 0;
  private busy = 0;
  private runMs = 0;

  /** Time spent inside one `session.run`. */
  run(ms: number): void {
    this.runMs += ms;
  }

  record(stage: PipelineStage, ms: number): void {
    const s = (this.stages[stage] ??= { count: 0, totalMs: 0 });
    s.count++;
    s.totalMs += ms;
    if (stage === 'step') {
      const now = performance.now();
      this.firstStepStart ??= now - ms;
      this.lastStepEnd = now;
      this.busy += ms;
    }
  }

  snapshot(): StageStatsSnapshot {
    return {
      stages: structuredClone(this.stages),
      transformerBusyMs: this.busy,
      transformerSpanMs: this.firstStepStart === undefined ? 0 : this.lastStepEnd - this.firstStepStart,
      sessionRunMs: this.runMs,
    };
  }

  reset(): void {
    this.stages = {};
    this.firstStepStart = undefined;
    this.lastStepEnd = 0;
    this.busy = 0;
    this.runMs = 0;
  }
}

/** Adds two snapshots (e.g. the text/VAE thread's and the transformer thread's). */
export function mergeStats(a: StageStatsSnapshot, b: StageStatsSnapshot): StageStatsSnapshot {
  const stages: StageStatsSnapshot['stages'] = structuredClone(a.stages);
  for (const [k, v] of Object.entries(b.stages) as Array<[PipelineStage, StageTotals]>) {
    const s = (stages[k] ??= { count: 0, totalMs: 0 });
    s.count += v.count;
    s.totalMs += v.totalMs;
  }
  return {
    stages,
    transformerBusyMs: a.transformerBusyMs + b.transformerBusyMs,
    transformerSpanMs: Math.max(a.transformerSpanMs, b.transformerSpanMs),
    sessionRunMs: a.sessionRunMs + b.sessionRunMs,
    ...(a.textCache ?? b.textCache ? { textCache: a.textCache ?? b.textCache } : {}),
  };
}
