/**
 * Prometheus metrics of one bot process (one prom-client Registry per BotApp, so two bots in one process
 * never mix). Counters and histograms are fed by the hooks (ObservabilityHooks); gauges that describe
 * shared state (queue depth, workers, GPU memory, dead letters) are read from Redis at scrape time.
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Keys } from '../jobs/keys.js';
import { WORKER_TTL_MS } from '../jobs/workers.js';
import type { DeadLetters } from './dead-letters.js';
import { readGpuSamples } from './gpu.js';
import { workerBeats } from './snapshot.js';

const STATES = ['waiting', 'prioritized', 'active', 'delayed', 'completed', 'failed'] as const;

export type { EditResult, RateLimitedOperation } from '../jobs/hooks.js';

export interface MetricsSources {
  redis: Redis;
  keys: Keys;
  queues: ReadonlyArray<Queue>;
  deadLetters: DeadLetters;
}

export class BotMetrics {
  readonly registry = new Registry();
  readonly jobs: Counter<'outcome' | 'platform'>;
  readonly wait: Histogram;
  readonly generation: Histogram;
  readonly endToEnd: Histogram;
  readonly engineStep: Histogram;
  readonly statusEdits: Counter<'platform' | 'result'>;
  readonly rateLimited: Counter<'platform' | 'operation'>;
  readonly quotaRefusals: Counter<'platform' | 'reason'>;
  readonly deliveryRetries: Counter<'platform'>;
  readonly deliveries: Counter<'platform' | 'path'>;

  constructor(src: MetricsSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.jobs = new Counter({ name: 'zimage_jobs_total', help: 'Jobs that ended, by outcome (delivered, failed, cancelled, dead_lettered), counted by the replica that delivered them', labelNames: ['outcome', 'platform'], registers });
    this.wait = new Histogram({ name: 'zimage_job_wait_seconds', help: 'Queue wait: command accepted → a worker started the job', buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 1800], registers });
    this.generation = new Histogram({ name: 'zimage_job_generation_seconds', help: 'Engine time of one image', buckets: [0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120], registers });
    this.endToEnd = new Histogram({ name: 'zimage_job_end_to_end_seconds', help: 'Command accepted → result posted in the thread', buckets: [0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 1800], registers });
    this.engineStep = new Histogram({ name: 'zimage_engine_step_seconds', help: 'Mean denoising step time of an image, as measured by the worker', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5], registers });
    this.statusEdits = new Counter({ name: 'zimage_status_edits_total', help: 'Status message edits sent, by platform and result (ok, rate_limited = HTTP 429, error)', labelNames: ['platform', 'result'], registers });
    this.rateLimited = new Counter({ name: 'zimage_platform_rate_limited_total', help: 'Throttling answers (HTTP 429 and the like) from a chat platform, by operation (reply: replies and new threads; delivery; status_edit)', labelNames: ['platform', 'operation'], registers });
    this.quotaRefusals = new Counter({ name: 'zimage_quota_refusals_total', help: 'Commands refused because of a quota', labelNames: ['platform', 'reason'], registers });
    this.deliveries = new Counter({ name: 'zimage_deliveries_total', help: 'Deliveries completed, by path: fast_lane (handed over at once) or queue (the durable deliver job: no bot took the offer, or the lane failed)', labelNames: ['platform', 'path'], registers });
    this.deliveryRetries = new Counter({ name: 'zimage_delivery_failures_total', help: 'Delivery attempts that failed (each is retried with backoff until the attempts run out)', labelNames: ['platform'], registers });

    new Gauge({
      name: 'zimage_queue_jobs', help: 'Jobs in each BullMQ queue by state', labelNames: ['queue', 'state'], registers,
      async collect() {
        this.reset();
        for (const q of src.queues) {
          const counts = await q.getJobCounts(...STATES);
          for (const state of STATES) this.set({ queue: q.name, state }, counts[state] ?? 0);
        }
      },
    });
    new Gauge({
      name: 'zimage_workers_live', help: 'Workers whose heartbeat is younger than the liveness TTL', registers,
      async collect() {
        const beats = await workerBeats(src.redis, src.keys);
        this.set(beats.filter((b) => b.ageMs <= WORKER_TTL_MS).length);
      },
    });
    new Gauge({
      name: 'zimage_worker_heartbeat_age_seconds', help: 'Age of each known worker\'s last heartbeat', labelNames: ['worker'], registers,
      async collect() {
        this.reset();
        for (const b of await workerBeats(src.redis, src.keys)) this.set({ worker: b.id }, b.ageMs / 1000);
      },
    });
    const gpuGauge = (name: string, help: string, pick: (g: { usedBytes: number; totalBytes: number }) => number): Gauge => new Gauge({
      name, help, labelNames: ['worker', 'gpu'], registers,
      async collect() {
        this.reset();
        for (const [worker, s] of await readGpuSamples(src.redis, src.keys)) {
          for (const g of s.gpus) this.set({ worker, gpu: String(g.index) }, pick(g));
        }
      },
    });
    gpuGauge('zimage_gpu_memory_used_bytes', 'GPU memory in use (nvidia-smi on the worker; absent without one)', (g) => g.usedBytes);
    gpuGauge('zimage_gpu_memory_total_bytes', 'GPU memory size (nvidia-smi on the worker; absent without one)', (g) => g.totalBytes);
    new Gauge({
      name: 'zimage_dead_letters', help: 'Deliveries in the dead-letter list', registers,
      async collect() { this.set(await src.deadLetters.count()); },
    });
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }
}
