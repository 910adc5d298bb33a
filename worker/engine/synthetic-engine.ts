/**
 * SYNTHETIC ENGINE — for the load benchmark only (test/bench/load.ts), never selected by configuration.
 * No model: every image takes a fixed service time (like a GPU that always needs the same time), split evenly
 * over the denoising steps so progress reports look real, and its pixels are a flat colour from the seed.
 * It exists so the benchmark measures the bot's orchestration, not CPU inference on the benchmark machine.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Engine, EngineImage, EngineInfo, EngineRequest, StepCallback } from './engine.js';

export interface SyntheticEngineOptions {
  /** Service time of one image in ms (default 1000). */
  msPerImage?: number;
}

export class SyntheticEngine implements Engine {
  private readonly msPerImage: number;
  /** Sum of service time spent, for the benchmark's busy fraction. */
  busyMs = 0;

  constructor(o: SyntheticEngineOptions = {}) {
    this.msPerImage = o.msPerImage ?? 1000;
  }

  async load(): Promise<EngineInfo> {
    return { id: 'synthetic', name: `synthetic engine (${this.msPerImage} ms per image, benchmark only)`, demo: true, version: 'synthetic-1', maxTokens: 512 };
  }

  async generate(req: EngineRequest, onStep: StepCallback, signal?: AbortSignal): Promise<EngineImage[]> {
    const out: EngineImage[] = [];
    for (const [i, seed] of req.seeds.entries()) {
      const start = performance.now();
      for (let step = 1; step <= req.steps; step++) {
        // Absolute deadlines: timer lateness does not add up over the steps.
        const due = start + (this.msPerImage * step) / req.steps - performance.now();
        if (due > 0) await sleep(due, undefined, signal ? { signal } : {});
        if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('cancelled');
        onStep(i + 1, step, req.steps);
      }
      const rgb = new Uint8Array(req.width * req.height * 3);
      const [r, g, b] = [seed & 0xff, (seed >>> 8) & 0xff, (seed >>> 16) & 0xff];
      for (let p = 0; p < rgb.length; p += 3) { rgb[p] = r; rgb[p + 1] = g; rgb[p + 2] = b; }
      const ms = performance.now() - start;
      this.busyMs += ms;
      out.push({ seed, width: req.width, height: req.height, rgb, ms });
    }
    return out;
  }

  async dispose(): Promise<void> {}
}
