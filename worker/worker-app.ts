/** The worker process: one per GPU. Loads the model once, then takes `generate` jobs until stopped. */
import type { Redis } from 'ioredis';
import type { AssetStore } from '../src/assets/asset-store.js';
import { createAssetStore } from '../src/assets/create-store.js';
import type { Config } from '../src/config.js';
import type { Logger } from '../src/infra/logger.js';
import { Deadline } from '../src/infra/deadline.js';
import { createRedis } from '../src/infra/redis.js';
import { closeRedis, redisLabel, RedisWatch } from '../src/infra/redis-health.js';
import { Keys } from '../src/jobs/keys.js';
import { deliverJobOptions, openQueues, type Queues } from '../src/jobs/queues.js';
import { deliveryRetryOptions } from '../src/delivery/backoff.js';
import { GpuProbe } from '../src/observability/gpu.js';
import { createEngine } from './engine/create-engine.js';
import type { Engine, EngineInfo } from './engine/engine.js';
import { CancelListener } from './cancel-listener.js';
import { GenerateWorker } from './generate-worker.js';
import { templatesDir } from '../src/templates/dir.js';

export interface WorkerAppOptions {
  config: Config;
  redisUrl: string;
  log: Logger;
  /** Use this engine instead of the configured model (the load benchmark's synthetic engine). */
  engine?: Engine;
  /** Store images here instead of the configured store (tests). */
  assets?: AssetStore;
  /** Logs Redis outages once per process (default: one of its own). */
  redisWatch?: RedisWatch;
}

/** Kept at the end of a shutdown to close the connections (QUIT, then drop). */
const CLOSE_MS = 300;

export class WorkerApp {
  private readonly redis: Redis;
  private readonly queues: Queues;
  readonly worker: GenerateWorker;
  private readonly cancels: CancelListener;
  private readonly gpu: GpuProbe;
  private readonly watch: RedisWatch;
  private readonly connections: Redis[];

  constructor(private readonly o: WorkerAppOptions) {
    const { config, log } = o;
    const prefix = config.env.QUEUE_PREFIX;
    this.watch = o.redisWatch ?? new RedisWatch(log, redisLabel(o.redisUrl));
    this.redis = createRedis(o.redisUrl, 'zimage-worker', { watch: this.watch });
    this.queues = openQueues(this.redis, prefix);
    const engine = o.engine ?? createEngine({
      dataDir: config.dataDir,
      ...(config.env.ZIMAGE_MODEL_DIR ? { modelDir: config.env.ZIMAGE_MODEL_DIR } : {}),
      demoStepDelayMs: config.env.DEMO_STEP_DELAY_MS,
      threads: config.env.ZIMAGE_THREADS,
      executionProvider: config.env.ZIMAGE_EP,
      schedule: config.env.ZIMAGE_SCHEDULE,
      safetyChecker: config.env.ZIMAGE_SAFETY_CHECKER,
      textCacheBytes: config.env.ZIMAGE_TEXT_CACHE_MB * 1024 * 1024,
      onWarning: (message: string) => log.warn({ process: 'worker' }, message),
    });
    this.worker = new GenerateWorker({
      templatesDir: templatesDir(config),
      connection: this.redis, prefix, keys: new Keys(prefix), queues: this.queues, engine,
      assets: o.assets ?? createAssetStore(config), log: log.child({ process: 'worker' }),
      concurrency: config.env.WORKER_CONCURRENCY,
      lockMs: config.env.WORKER_LOCK_MS, stalledIntervalMs: config.env.WORKER_STALLED_INTERVAL_MS,
      // More progress than the status tracker can show is only load on Redis.
      progressIntervalMs: config.env.STATUS_TICK_MS,
      deliverOptions: { ...deliverJobOptions, ...deliveryRetryOptions(config.env.DELIVERY_ATTEMPTS, config.env.DELIVERY_BACKOFF_MS) },
    });
    this.gpu = new GpuProbe(this.redis, new Keys(prefix), this.worker.id);
    const subscriber = createRedis(o.redisUrl, 'zimage-worker-cancel', { watch: this.watch });
    this.cancels = new CancelListener(subscriber, new Keys(prefix).cancelChannel(), (id) => this.worker.cancel(id));
    this.connections = [this.redis, subscriber];
  }

  async start(): Promise<EngineInfo> {
    const info = await this.worker.start();
    await this.cancels.start();
    await this.gpu.start();
    return info;
  }

  /**
   * Stop within the shutdown bound (SHUTDOWN_TIMEOUT_MS unless a deadline is given), whether or not Redis is
   * reachable: running jobs may finish until shortly before it, then go back to the queue (GenerateWorker.stop).
   */
  async stop(deadline = Deadline.in(this.o.config.env.SHUTDOWN_TIMEOUT_MS)): Promise<void> {
    const work = deadline.earlier(CLOSE_MS);
    this.cancels.stopListening();
    await this.gpu.stop(work);
    await this.worker.stop(work);
    this.watch.close();
    await work.wait(this.queues.close());
    await closeRedis(this.connections, deadline.remainingMs());
  }
}
