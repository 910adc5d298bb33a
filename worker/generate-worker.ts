/**
 * The GPU-side worker: takes jobs from `generate`, runs the engine (in its own thread), stores each PNG
 * with its metadata, and hands the result back through `deliver`. Knows nothing about chat platforms.
 */
import { hostname } from 'node:os';
import { UnrecoverableError, WaitingError, Worker, type Job, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { imageKey, thumbnailKey, type AssetStore } from '../src/assets/asset-store.js';
import { makeThumbnail, type ThumbnailSource } from '../src/assets/thumbnail.js';
import { provenanceRecord } from '../src/assets/provenance.js';
import { isZimageError } from '../src/errors.js';
import { settledWithin, type Deadline } from '../src/infra/deadline.js';
import type { Logger } from '../src/infra/logger.js';
import { isRedisUnavailable } from '../src/infra/redis-health.js';
import { newJobId } from '../src/jobs/job-id.js';
import { leaveLine } from '../src/jobs/fair-share.js';
import type { Keys } from '../src/jobs/keys.js';
import { handOff } from '../src/delivery/handoff.js';
import { deliverJobOptions, GENERATE_QUEUE, type Queues } from '../src/jobs/queues.js';
import { channelKindOf, type GenerateJobData, type GenerateProgress, type ImageMetadata, type StoredImage } from '../src/jobs/types.js';
import { workUnits } from '../src/status/line.js';
import { encodeFailure } from '../src/jobs/failure.js';
import { recordSpeed } from '../src/jobs/speed.js';
import { heartbeat, removeWorker } from '../src/jobs/workers.js';
import type { Engine, EngineInfo } from './engine/engine.js';
import { encodeImage, imageExt, warmUpEncoder } from './encode-image.js';

/** Failures that a retry cannot fix. */
const FINAL_CODES = new Set(['CANCELLED', 'SAFETY_BLOCKED', 'PROMPT_TOO_LONG', 'INVALID_REQUEST']);
/** Progress reports at most this often by default: the status tracker looks no more often than its tick. */
const PROGRESS_MIN_INTERVAL_MS = 500;
const HEARTBEAT_MS = 2000;
/** Kept at the end of a shutdown's drain to hand unfinished jobs back to the queue. */
const RELEASE_MS = 500;
/** How long closing may take when no job runs. */
const IDLE_CLOSE_MS = 300;

export interface GenerateWorkerOptions {
  /** Where template post-processing files (overlays) live. */
  templatesDir: string;
  connection: Redis;
  prefix: string;
  keys: Keys;
  queues: Queues;
  engine: Engine;
  assets: AssetStore;
  log: Logger;
  lockMs: number;
  /** Jobs held at once (the engine runs them in order, overlapping stages). */
  concurrency?: number;
  stalledIntervalMs: number;
  /** Least time between two progress reports of a job (the last step is always reported); the tracker's tick. */
  progressIntervalMs?: number;
  /** Options of the `deliver` jobs this worker adds (retries, backoff); default deliverJobOptions. */
  deliverOptions?: JobsOptions;
}

export class GenerateWorker {
  readonly id = `${hostname()}-${process.pid}-${newJobId().slice(-4)}`;
  private worker: Worker<GenerateJobData> | undefined;
  private beat: NodeJS.Timeout | undefined;
  private info: EngineInfo | undefined;
  /** Set when a shutdown's drain ran out: running jobs go back to the queue instead of failing. */
  private releasing = false;
  /** Jobs in `process` now. */
  private running = 0;
  /** Previews being made for images already handed off (stop waits for them). */
  private readonly previewing = new Set<Promise<void>>();

  private readonly deliverOptions: JobsOptions;

  constructor(private readonly o: GenerateWorkerOptions) {
    this.deliverOptions = o.deliverOptions ?? deliverJobOptions;
  }

  async start(): Promise<EngineInfo> {
    this.info = await this.o.engine.load();
    await warmUpEncoder();
    this.worker = new Worker<GenerateJobData>(GENERATE_QUEUE, (job, token, signal) => this.process(job, token, signal), {
      connection: this.o.connection,
      prefix: this.o.prefix,
      concurrency: this.o.concurrency ?? 1,
      lockDuration: this.o.lockMs,
      stalledInterval: this.o.stalledIntervalMs,
      // A worker that dies mid-job puts its job back once or twice before the job is given up.
      maxStalledCount: 2,
    });
    // Connection errors are the outage the Redis watch reports once; anything else is worth a line each.
    this.worker.on('error', (err) => { if (!isRedisUnavailable(err)) this.o.log.warn({ err }, 'generate worker error'); });
    this.worker.on('stalled', (jobId) => this.o.log.warn({ jobId }, 'job stalled (worker lost); it will re-run'));
    await this.worker.waitUntilReady();
    const tick = (): void => {
      // While Redis is unreachable beats would only pile up in the offline queue.
      if (this.o.connection.status === 'ready') void heartbeat(this.o.connection, this.o.keys, this.id).catch(() => undefined);
    };
    tick();
    this.beat = setInterval(tick, HEARTBEAT_MS);
    this.o.log.debug({ worker: this.id, model: this.info.name }, 'worker ready');
    return this.info;
  }

  /**
   * Take no new jobs and let the running ones finish before `deadline`; those still running then go back to the
   * queue for another worker (or the next start): stopped between denoising steps and moved back to waiting,
   * or — when Redis cannot be reached to do that — left to BullMQ's stalled-job check once their lock expires.
   */
  async stop(deadline: Deadline): Promise<void> {
    if (this.beat) clearInterval(this.beat);
    const worker = this.worker;
    if (worker) {
      const closing = worker.close();
      // With nothing running there is nothing to drain: no waiting for a Redis that may be gone.
      if (this.running === 0) await settledWithin(closing, IDLE_CLOSE_MS);
      else if (!(await deadline.earlier(RELEASE_MS).wait(closing))) {
        this.releasing = true;
        worker.cancelAllJobs('shutdown');
        await deadline.wait(closing);
      }
    }
    // With Redis gone the heartbeat simply ages out (WORKER_TTL_MS).
    if (this.o.connection.status === 'ready') await deadline.wait(removeWorker(this.o.connection, this.o.keys, this.id));
    await deadline.wait(Promise.allSettled([...this.previewing]));
    await deadline.wait(this.o.engine.dispose());
  }

  /** Make and store the previews in the background; one that fails is logged (the index backfill can make it later). */
  private storePreviews(previews: readonly Preview[], log: Logger): void {
    const p = (async () => {
      for (const preview of previews) await this.o.assets.putFile(preview.key, await makeThumbnail(preview.source));
    })().catch((err: unknown) => log.warn({ err }, 'could not store an image preview'))
      .finally(() => { this.previewing.delete(p); });
    this.previewing.add(p);
  }

  /** Cancel a running job on this worker (between denoising steps). */
  cancel(jobId: string): boolean {
    return this.worker?.cancelJob(jobId, 'cancelled') ?? false;
  }

  private async process(job: Job<GenerateJobData>, token?: string, signal?: AbortSignal): Promise<{ images: string[] }> {
    this.running++;
    try {
      return await this.generate(job, token, signal);
    } finally {
      this.running--;
    }
  }

  private async generate(job: Job<GenerateJobData>, token?: string, signal?: AbortSignal): Promise<{ images: string[] }> {
    const jobId = job.id!;
    const { params, origin, acceptedAt, charge } = job.data;
    const log = this.o.log.child({ jobId, user: origin.user, platform: origin.platform });
    const startedAt = Date.now();
    // The user's count of waiting jobs (their next job's priority) drops now; the engine does not wait for it.
    const leftLine = leaveLine(this.o.connection, this.o.keys, origin, jobId)
      .catch((err: unknown) => log.warn({ err }, 'could not update the waiting set'));
    try {
      const seeds = Array.from({ length: params.count }, (_, i) => (params.seed + i) % 2 ** 32);
      let last = 0;
      const stepTimer = new StepTimer();
      const images = await this.o.engine.generate(
        { prompt: params.prompt, width: params.width, height: params.height, steps: params.steps, seeds },
        (image, step, steps) => {
          const now = Date.now();
          stepTimer.step(image, step, now);
          if (step < steps && now - last < (this.o.progressIntervalMs ?? PROGRESS_MIN_INTERVAL_MS)) return;
          last = now;
          const progress: GenerateProgress = { image, count: params.count, step, steps };
          // Sent once the step's own work is done: the report's round of promises would otherwise run
          // before the job goes on (after the last step: before the image is encoded and handed off).
          setImmediate(() => { job.updateProgress(progress).catch(() => undefined); });
        },
        signal,
      );
      await leftLine;
      const info = this.info!;
      const stored: StoredImage[] = [];
      const previews: Preview[] = [];
      for (const [index, img] of images.entries()) {
        const key = imageKey(jobId, index, new Date(acceptedAt), imageExt(job.data.post));
        const metadata: ImageMetadata = {
          jobId, index, prompt: params.prompt, seed: img.seed, width: img.width, height: img.height, steps: params.steps,
          model: { id: info.id, name: info.name, demo: info.demo, version: info.version },
          template: job.data.template ?? null,
          platform: origin.platform, workspace: origin.workspace, channel: origin.channel, channelKind: channelKindOf(origin.channelKind),
          user: origin.user, ...(origin.userName ? { userName: origin.userName } : {}),
          createdAt: new Date().toISOString(), queueWaitMs: Math.max(0, startedAt - acceptedAt), generationMs: Math.round(img.ms),
          stepMs: stepTimer.meanMs(index + 1) ?? Math.round((img.ms / Math.max(1, params.steps)) * 10) / 10,
          ...(charge ? { charge } : {}), thumbnailKey: thumbnailKey(key),
        };
        const encoded = await encodeImage(img.rgb, img.width, img.height, metadata, job.data.post, this.o.templatesDir);
        await this.o.assets.put(key, encoded.data, provenanceRecord(metadata, key));
        stored.push({ key, metadata });
        // From the raw pixels, unless an overlay changes the picture.
        previews.push({ key: thumbnailKey(key), source: job.data.post?.overlay ? encoded.data : { rgb: img.rgb, width: img.width, height: img.height } });
      }
      await Promise.all([
        handOff(this.o.connection, this.o.keys, this.o.queues.deliver, { kind: 'result', jobId, origin, images: stored }, this.deliverOptions),
        recordSpeed(this.o.connection, this.o.keys, Date.now() - startedAt, workUnits(params)),
      ]);
      // Previews are for the gallery, not for the person waiting: made once the images are on their way.
      this.storePreviews(previews, log);
      log.info({ ms: Date.now() - startedAt, images: stored.length }, 'generated');
      return { images: stored.map((s) => s.key) };
    } catch (err) {
      if (this.releasing) {
        // Shutting down: not a failure. Back to the queue at once, else (Redis gone) when its lock expires.
        if (token) await job.moveToWait(token).catch(() => undefined);
        log.info({ step: 'released' }, 'job handed back to the queue (shutdown)');
        throw new WaitingError();
      }
      const code = isZimageError(err) ? err.code : 'GENERATION_FAILED';
      const detail = err instanceof Error ? err.message : String(err);
      const attempts = job.opts.attempts ?? 1;
      const final = FINAL_CODES.has(code) || signal?.aborted === true || job.attemptsMade + 1 >= attempts;
      log.warn({ err, code, attempt: job.attemptsMade + 1, final }, 'generation failed');
      if (!final) throw err;
      const failCode = signal?.aborted ? 'CANCELLED' : code;
      await handOff(this.o.connection, this.o.keys, this.o.queues.deliver, { kind: 'failure', jobId, origin, code: failCode, detail }, this.deliverOptions);
      throw new UnrecoverableError(encodeFailure({ code: failCode, detail }));
    }
  }
}

/** A preview to make once its image is handed off. */
interface Preview {
  key: string;
  source: ThumbnailSource;
}

/** Mean time between consecutive denoising steps of each image (the first step also carries text encoding, so it is left out). */
class StepTimer {
  private prev = { image: 0, at: 0 };
  private readonly sums = new Map<number, { ms: number; n: number }>();

  step(image: number, step: number, now: number): void {
    if (this.prev.image === image && step > 1) {
      const s = this.sums.get(image) ?? { ms: 0, n: 0 };
      s.ms += now - this.prev.at;
      s.n++;
      this.sums.set(image, s);
    }
    this.prev = { image, at: now };
  }

  meanMs(image: number): number | undefined {
    const s = this.sums.get(image);
    return s && s.n > 0 ? Math.round((s.ms / s.n) * 10) / 10 : undefined;
  }
}
