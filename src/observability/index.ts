/**
 * Observability of one bot process, composed in one object: Prometheus metrics (`/metrics`), the status
 * snapshot (`/status`, `/zimage status`, alerts), the recent-jobs window, the dead-letter list and the
 * optional alerts. It is also the ObservabilityHooks the core calls (tracker, delivery, quota).
 */
import { performance } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import type { BotRequest, ChatAdapter } from '../chat/types.js';
import type { SubcommandHandler } from '../commands/subcommand.js';
import type { Config } from '../config.js';
import { describeError, isZimageError } from '../errors.js';
import type { HttpServer } from '../http/server.js';
import type { Logger } from '../infra/logger.js';
import type { Keys } from '../jobs/keys.js';
import type { Queues } from '../jobs/queues.js';
import type { DeliverJobData } from '../jobs/types.js';
import type { StatusStore } from '../jobs/status-store.js';
import { Alerter } from './alerts.js';
import { DeadLetters } from './dead-letters.js';
import type { DeliveryFailure, DeliveryPath, ObservabilityHooks } from '../jobs/hooks.js';
import { BotMetrics, type EditResult, type RateLimitedOperation } from './metrics.js';
import { RecentJobs, type JobOutcome } from './recent-jobs.js';
import { registerMetricsRoute, registerStatusRoute } from './routes.js';
import { takeSnapshot, type OpsSnapshot } from './snapshot.js';
import { statusSubcommand } from './status-command.js';

export interface ObservabilityOptions {
  config: Config;
  http: HttpServer;
  redis: Redis;
  keys: Keys;
  queues: Queues;
  store: StatusStore;
  adapters: ReadonlyMap<string, ChatAdapter>;
  /** The bot's reply language as the settings say now. */
  defaultLocale: () => string;
  log: Logger;
}

export class Observability implements ObservabilityHooks {
  readonly metrics: BotMetrics;
  readonly recent: RecentJobs;
  readonly deadLetters: DeadLetters;
  /** When the bot started, on the monotonic clock: uptime must not jump with the wall clock. */
  private readonly startedMono = performance.now();
  private readonly alerter: Alerter | undefined;

  constructor(private readonly o: ObservabilityOptions) {
    const { redis, keys, queues, config } = o;
    this.recent = new RecentJobs(redis, keys);
    this.deadLetters = new DeadLetters(redis, keys);
    this.metrics = new BotMetrics({ redis, keys, queues: [queues.generate, queues.deliver], deadLetters: this.deadLetters });
    registerMetricsRoute(o.http, this.metrics, config.env.METRICS_TOKEN);
    registerStatusRoute(o.http, () => this.snapshot(), o.defaultLocale);
    const e = config.env;
    if (e.ALERT_THREAD) {
      this.alerter = new Alerter({
        thread: e.ALERT_THREAD, p95WaitMs: e.ALERT_P95_WAIT_MS, failureRate: e.ALERT_FAILURE_RATE, minJobs: e.ALERT_MIN_JOBS,
        noWorker: e.ALERT_NO_WORKER, checkMs: e.ALERT_CHECK_MS, repeatMs: e.ALERT_REPEAT_MS,
        // The language follows the settings file (read when an alert is worded).
        get locale() { return o.defaultLocale(); },
      }, { redis, keys, adapters: o.adapters, snapshot: () => this.snapshot(), log: o.log.child({ component: 'alerts' }) });
    }
  }

  snapshot(now = Date.now()): Promise<OpsSnapshot> {
    return takeSnapshot({
      redis: this.o.redis, keys: this.o.keys, queue: this.o.queues.generate, recent: this.recent, deadLetters: this.deadLetters,
      uptimeMs: performance.now() - this.startedMono,
    }, now);
  }

  /** The `/zimage status` handler; `isManager` decides who sees the dead-letter count. */
  statusCommand(isManager?: (req: BotRequest) => Promise<boolean>): SubcommandHandler {
    return statusSubcommand({ snapshot: () => this.snapshot(), ...(isManager ? { isManager } : {}) });
  }

  /** Exposed for tests: run one alert check now. */
  async checkAlerts(now?: number): Promise<void> {
    await this.alerter?.check(now);
  }

  start(): void {
    this.alerter?.start();
  }

  async stop(): Promise<void> {
    await this.alerter?.stop();
  }

  // ---- hooks ----

  statusEdit(platform: string, result: EditResult): void {
    this.metrics.statusEdits.inc({ platform, result });
    if (result === 'rate_limited') this.platformRateLimited(platform, 'status_edit');
  }

  platformRateLimited(platform: string, operation: RateLimitedOperation): void {
    this.metrics.rateLimited.inc({ platform, operation });
  }

  quotaRefused(platform: string, reason: string): void {
    this.metrics.quotaRefusals.inc({ platform, reason });
  }

  async jobEnded(data: DeliverJobData, acceptedAt: number, path: DeliveryPath, now = Date.now()): Promise<void> {
    this.metrics.deliveries.inc({ platform: data.origin.platform, path });
    const platform = data.origin.platform;
    const totalMs = Math.max(0, now - acceptedAt);
    let outcome: JobOutcome;
    let waitMs: number | null = null;
    if (data.kind === 'result') {
      outcome = 'delivered';
      const first = data.images[0]?.metadata;
      if (first) {
        waitMs = first.queueWaitMs;
        this.metrics.wait.observe(first.queueWaitMs / 1000);
      }
      for (const img of data.images) {
        this.metrics.generation.observe(img.metadata.generationMs / 1000);
        const step = img.metadata.stepMs ?? (img.metadata.steps > 0 ? img.metadata.generationMs / img.metadata.steps : undefined);
        if (step !== undefined) this.metrics.engineStep.observe(step / 1000);
      }
      this.metrics.endToEnd.observe(totalMs / 1000);
    } else {
      outcome = data.code === 'CANCELLED' ? 'cancelled' : 'failed';
    }
    this.metrics.jobs.inc({ outcome, platform });
    await this.recent.record({ jobId: data.jobId, outcome, waitMs, totalMs, at: now }).catch((err: unknown) => this.o.log.warn({ err }, 'could not record job end'));
  }

  async deliveryFailed(f: DeliveryFailure): Promise<void> {
    const { origin, jobId } = f.data;
    this.metrics.deliveryRetries.inc({ platform: origin.platform });
    if (isZimageError(f.error, 'RATE_LIMITED')) this.platformRateLimited(origin.platform, 'delivery');
    if (!f.final) return;
    const now = Date.now();
    const rec = await this.o.store.get(jobId).catch(() => null);
    const acceptedAt = rec?.acceptedAt ?? now;
    await this.deadLetters.add({
      jobId, deliveryId: f.deliveryId, kind: f.data.kind, platform: origin.platform, workspace: origin.workspace, thread: origin.thread,
      user: origin.user, attempts: f.attemptsMade, error: describeError(f.error), at: now,
    });
    this.metrics.jobs.inc({ outcome: 'dead_lettered', platform: origin.platform });
    await this.recent.record({ jobId, outcome: 'dead_lettered', waitMs: null, totalMs: now - acceptedAt, at: now });
    this.o.log.error({ jobId, user: origin.user, platform: origin.platform, attempts: f.attemptsMade }, 'delivery kept failing; moved to the dead-letter list');
  }
}

export type { ObservabilityHooks } from '../jobs/hooks.js';
export { NO_HOOKS } from '../jobs/hooks.js';
