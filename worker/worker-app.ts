/** The worker process: one per GPU. Loads the model once, then takes `generate` jobs until stopped. */
import type { Redis } from 'ioredis';
import { createAssetStore } from '../src/assets/create-store.js';
import type { Config } from '../src/config.js';
import type { Logger } from '../src/infra/logger.js';
import { createRedis } from '../src/infra/redis.js';
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
}

export class WorkerApp {
  private readonly redis: Redis;
  private readonly queues: Queues;
  readonly worker: GenerateWorker;
  private readonly cancels: CancelListener;
  private readonly gpu: GpuProbe;

  constructor(o: WorkerAppOptions) {
    const { config, log } = o;
    const prefix = config.env.QUEUE_PREFIX;
    this.redis = createRedis(o.redisUrl, 'zimage-worker');
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
      assets: createAssetStore(config), log: log.child({ process: 'worker' }),
      concurrency: config.env.WORKER_CONCURRENCY,
      lockMs: config.env.WORKER_LOCK_MS, stalledIntervalMs: config.env.WORKER_STALLED_INTERVAL_MS,
      // More progress than the status tracker can show is only load on Redis.
      progressIntervalMs: config.env.STATUS_TICK_MS,
      deliverOptions: { ...deliverJobOptions, ...deliveryRetryOptions(config.env.DELIVERY_ATTEMPTS, config.env.DELIVERY_BACKOFF_MS) },
    });
    this.gpu = new GpuProbe(this.redis, new Keys(prefix), this.worker.id);
    this.cancels = new CancelListener(createRedis(o.redisUrl, 'zimage-worker-cancel'), new Keys(prefix).cancelChannel(), (id) => this.worker.cancel(id));
  }

  async start(): Promise<EngineInfo> {
    const info = await this.worker.start();
    await this.cancels.start();
    await this.gpu.start();
    return info;
  }

  async stop(): Promise<void> {
    await this.cancels.stop();
    await this.gpu.stop();
    await this.worker.stop();
    await this.queues.close();
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
