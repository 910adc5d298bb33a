/**
 * Peak resident memory per stage. onnxruntime-node's `run` blocks the calling thread, so the sampling happens on
 * a worker thread (RSS is process-wide) every 10 ms into shared memory; `window()` starts a new measurement and
 * `peak()` reads the highest RSS since. The kernel's own high-water mark (maxRSS) is reported alongside.
 */
import { Worker } from 'node:worker_threads';

const SAMPLER = `
const { workerData } = require('node:worker_threads');
const a = new Int32Array(workerData);
setInterval(() => {
  const kib = Math.round(process.memoryUsage.rss() / 1024);
  if (kib > Atomics.load(a, 0)) Atomics.store(a, 0, kib);
  if (Atomics.load(a, 1) === 1) process.exit(0);
}, 10);`;

export class RssSampler {
  private readonly cells = new Int32Array(new SharedArrayBuffer(8));
  private readonly worker: Worker;

  constructor() {
    this.worker = new Worker(SAMPLER, { eval: true, workerData: this.cells.buffer });
    this.worker.unref();
    this.window();
  }

  /** Starts a new window at the current RSS. */
  window(): void {
    Atomics.store(this.cells, 0, Math.round(process.memoryUsage.rss() / 1024));
  }

  /** Highest RSS (bytes) since the window started, including now. */
  peak(): number {
    const now = Math.round(process.memoryUsage.rss() / 1024);
    return Math.max(now, Atomics.load(this.cells, 0)) * 1024;
  }

  /** Runs `fn` in a fresh window; returns its result, duration and peak RSS. */
  async measure<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number; peakRss: number }> {
    this.window();
    const t0 = performance.now();
    const value = await fn();
    return { value, ms: performance.now() - t0, peakRss: this.peak() };
  }

  async stop(): Promise<void> {
    Atomics.store(this.cells, 1, 1);
    await this.worker.terminate();
  }
}

/** The kernel's high-water mark for this process (bytes). */
export function maxRss(): number {
  return process.resourceUsage().maxRSS * 1024;
}
