/**
 * Runs a schedule: renders its template (rotating variables advance one value per run), opens a new
 * thread in the schedule's channel, and queues the job below every person's (lane "scheduled"). Scheduled
 * runs are not charged to the owner's quota. Problems are reported in the channel, addressed to the owner.
 * A usage report (kind `usage`) posts the figures and chart of the previous window into its thread instead.
 */
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ChatAdapter } from '../chat/types.js';
import type { CommandRules } from '../commands/index.js';
import { t } from '../i18n/index.js';
import type { Logger } from '../infra/logger.js';
import { isRedisUnavailable } from '../infra/redis-health.js';
import type { JobLifecycle } from '../jobs/lifecycle.js';
import { originOf, settle } from '../intake/origin.js';
import type { TemplateLibrary } from '../templates/library.js';
import { prepareTemplate } from '../templates/prepare.js';
import { SCHEDULES_QUEUE, type ScheduleRunData } from './service.js';
import type { ScheduleDef, ScheduleStore } from './store.js';

export interface RunnerDeps {
  connection: Redis;
  lifecycle: JobLifecycle;
  prefix: string;
  schedules: ScheduleStore;
  adapters: ReadonlyMap<string, ChatAdapter>;
  templates: TemplateLibrary;
  /** The grammar's rules, read at each run (they follow the settings file). */
  rules: () => CommandRules;
  log: Logger;
  /** Posts a usage report (schedule kind `usage`) into its new thread (src/library/usage-report.ts, wired by the bot). */
  usageReport?: (def: ScheduleDef, thread: string, adapter: ChatAdapter) => Promise<void>;
}

/** The variables of run number `run` (1-based): fixed ones plus the rotating ones' current values. */
export function varsForRun(def: Pick<ScheduleDef, 'vars' | 'rotate'>, run: number): Record<string, string> {
  const vars = { ...def.vars };
  for (const [name, list] of Object.entries(def.rotate)) if (list.length > 0) vars[name] = list[(run - 1) % list.length]!;
  return vars;
}

export class ScheduleRunner {
  private worker: Worker<ScheduleRunData> | undefined;
  constructor(private readonly d: RunnerDeps) {}

  async start(): Promise<void> {
    this.worker = new Worker<ScheduleRunData>(SCHEDULES_QUEUE, (job) => this.run(job), {
      connection: this.d.connection, prefix: this.d.prefix, concurrency: 2,
    });
    this.worker.on('error', (err) => { if (!isRedisUnavailable(err)) this.d.log.warn({ err }, 'schedule worker error'); });
    await this.worker.waitUntilReady();
  }

  /** Let running jobs finish and close; `force` (Redis unreachable): close without waiting for them or for Redis. */
  async stop(force = false): Promise<void> {
    await this.worker?.close(force);
  }

  async run(job: Job<ScheduleRunData>): Promise<string | null> {
    const def = await this.d.schedules.get(job.data.scheduleId);
    if (!def || def.paused) return null;
    const adapter = this.d.adapters.get(def.platform);
    if (!adapter?.startThread) {
      this.d.log.warn({ scheduleId: def.id, platform: def.platform }, 'platform cannot start threads; scheduled run skipped');
      return null;
    }
    const run = await this.d.schedules.nextRun(def.id);
    const L = def.locale;
    const title = t(L, 'schedules.run_title', { template: def.template, id: def.id, run });
    const thread = await adapter.startThread(def.workspace, def.channel, title);
    if (def.kind === 'usage') {
      await this.d.usageReport?.(def, thread, adapter);
      this.d.log.info({ scheduleId: def.id, run }, 'scheduled usage report posted');
      return null;
    }
    const prepared = prepareTemplate(this.d.templates, { template: def.template, vars: varsForRun(def, run), flags: '' }, this.d.rules(), L);
    if (!prepared.ok) {
      await adapter.reply(thread, t(L, 'schedules.run_failed', { owner: def.ownerName ?? def.owner, id: def.id, reason: prepared.reply }));
      return null;
    }
    const origin = originOf(
      { platform: def.platform, workspace: def.workspace, channel: def.channel, channelKind: def.channelKind, thread, user: def.owner, ...(def.ownerName ? { userName: def.ownerName } : {}) },
      { locale: L, eventId: `schedule:${job.id}`, schedule: { id: def.id, owner: def.owner } },
    );
    const { jobId } = await this.d.lifecycle.submit(origin, settle(prepared.params), { lane: 'scheduled', extra: prepared.extra });
    this.d.log.info({ scheduleId: def.id, run, jobId }, 'scheduled run queued');
    return jobId;
  }
}
