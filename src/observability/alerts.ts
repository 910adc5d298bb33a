/**
 * Optional alerts into a chat thread or channel (ALERT_THREAD, off when unset): a message when the p95
 * wait or the failure rate crosses its threshold or no worker is alive, repeated while it lasts (every
 * ALERT_REPEAT_MS), and one "back to normal" message when it clears. A condition must hold on two checks
 * in a row before it fires, so a worker restart does not page anyone. One replica sends (Redis lease).
 */
import type { ChatAdapter } from '../chat/types.js';
import { formatDuration, t } from '../i18n/index.js';
import { LeaderLock } from '../infra/leader-lock.js';
import type { Logger } from '../infra/logger.js';
import type { Redis } from 'ioredis';
import type { Keys } from '../jobs/keys.js';
import { formatRate } from './ops-text.js';
import type { OpsSnapshot } from './snapshot.js';

export type AlertKind = 'p95_wait' | 'failure_rate' | 'no_worker';

export interface AlertSettings {
  thread: string;
  p95WaitMs: number;
  failureRate: number;
  /** Failure rate only counts with at least this many jobs in the window. */
  minJobs: number;
  noWorker: boolean;
  checkMs: number;
  repeatMs: number;
  locale: string;
}

interface CondState { seen: number; firingSince: number | null; lastSent: number }

/** Which conditions hold in a snapshot (pure; unit-tested). */
export function firingConditions(s: OpsSnapshot, a: Pick<AlertSettings, 'p95WaitMs' | 'failureRate' | 'minJobs' | 'noWorker'>): Set<AlertKind> {
  const out = new Set<AlertKind>();
  if (s.p95_wait_ms !== null && s.p95_wait_ms > a.p95WaitMs) out.add('p95_wait');
  if (s.failure_rate !== null && s.jobs_recent >= a.minJobs && s.failure_rate > a.failureRate) out.add('failure_rate');
  if (a.noWorker && s.live_workers === 0) out.add('no_worker');
  return out;
}

export function alertText(kind: AlertKind, s: OpsSnapshot, a: AlertSettings): string {
  const l = a.locale;
  if (kind === 'p95_wait') {
    return t(l, 'ops.alert_p95', { wait: formatDuration(s.p95_wait_ms ?? 0, l), minutes: s.window_minutes, threshold: formatDuration(a.p95WaitMs, l), queued: s.queue_length, workers: s.live_workers });
  }
  if (kind === 'failure_rate') {
    return t(l, 'ops.alert_failures', { rate: formatRate(s.failure_rate ?? 0), jobs: s.jobs_recent, threshold: formatRate(a.failureRate) });
  }
  return t(l, 'ops.alert_no_worker', { queued: s.queue_length });
}

export class Alerter {
  private readonly state = new Map<AlertKind, CondState>();
  private readonly lock: LeaderLock;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly a: AlertSettings,
    private readonly deps: { redis: Redis; keys: Keys; adapters: ReadonlyMap<string, ChatAdapter>; snapshot: () => Promise<OpsSnapshot>; log: Logger },
  ) {
    this.lock = new LeaderLock(deps.redis, deps.keys.lock('alerts'), Math.max(10_000, a.checkMs * 3));
  }

  start(): void {
    this.timer = setInterval(() => { this.running ??= this.check().finally(() => { this.running = undefined; }); }, this.a.checkMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
    await this.lock.release().catch(() => undefined);
  }

  /** One check (also called by tests). Never throws. */
  async check(now = Date.now()): Promise<void> {
    try {
      if (!(await this.lock.hold())) return;
      const s = await this.deps.snapshot();
      const firing = firingConditions(s, this.a);
      for (const kind of ['no_worker', 'p95_wait', 'failure_rate'] as const) {
        const st = this.state.get(kind) ?? { seen: 0, firingSince: null, lastSent: 0 };
        this.state.set(kind, st);
        if (firing.has(kind)) {
          st.seen++;
          if (st.seen < 2) continue;
          if (st.firingSince === null || now - st.lastSent >= this.a.repeatMs) {
            st.firingSince ??= now;
            st.lastSent = now;
            await this.send(alertText(kind, s, this.a));
          }
        } else {
          if (st.firingSince !== null) await this.send(t(this.a.locale, 'ops.alert_recovered', { what: t(this.a.locale, `ops.alert_name.${kind}`) }));
          st.seen = 0;
          st.firingSince = null;
        }
      }
    } catch (err) {
      this.deps.log.warn({ err }, 'alert check failed');
    }
  }

  private async send(text: string): Promise<void> {
    const platform = this.a.thread.slice(0, this.a.thread.indexOf(':'));
    const adapter = this.deps.adapters.get(platform);
    if (!adapter) {
      this.deps.log.warn({ platform }, 'ALERT_THREAD names a platform this bot does not run; alert not sent');
      return;
    }
    await adapter.reply(this.a.thread, text);
    this.deps.log.warn({ alert: text }, 'alert sent');
  }
}
