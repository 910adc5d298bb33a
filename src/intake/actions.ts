/**
 * Button clicks: Cancel (the requester or a manager; through the job lifecycle), Regenerate (same prompt, new
 * seed) and Variations ×4 (four new seeds, delivered as four images) — admitted like any generation and
 * queued through the lifecycle. Clicks are idempotent by their event id.
 */
import type { Redis } from 'ioredis';
import type { ActionResult, BotAction } from '../chat/types.js';
import { normalizeLocale, t } from '../i18n/index.js';
import type { Logger } from '../infra/logger.js';
import { isRedisUnavailable } from '../infra/redis-health.js';
import type { ObservabilityHooks } from '../jobs/hooks.js';
import type { Keys } from '../jobs/keys.js';
import type { JobLifecycle } from '../jobs/lifecycle.js';
import type { StatusStore } from '../jobs/status-store.js';
import type { GenerateParams } from '../jobs/types.js';
import { admitClick } from '../quota/admission.js';
import type { QuotaService } from '../quota/service.js';
import { newSeed, originOf } from './origin.js';
import { EVENT_TTL_S } from './pipeline.js';

export interface ActionDeps {
  redis: Redis;
  keys: Keys;
  store: StatusStore;
  lifecycle: JobLifecycle;
  quota: QuotaService;
  hooks?: ObservabilityHooks;
  log: Logger;
}

const CANCEL_TEXT = { cancelled: 'actions.cancelled', cancelling: 'actions.cancelling', finished: 'actions.already_finished', not_yours: 'actions.cancel_not_yours' } as const;

export class ActionRouter {
  constructor(private readonly d: ActionDeps) {}

  /** The clicker's answer; with Redis unreachable, "try again in a minute" (nothing was done). */
  async handle(a: BotAction): Promise<ActionResult> {
    const locale = normalizeLocale(a.locale ?? 'en');
    try {
      return await this.handleIn(a, locale);
    } catch (err) {
      if (!isRedisUnavailable(err)) throw err;
      return { ok: false, message: t(locale, 'errors.UNAVAILABLE') };
    }
  }

  private async handleIn(a: BotAction, locale: string): Promise<ActionResult> {
    const fresh = await this.d.redis.set(this.d.keys.event(`${a.platform}:action:${a.eventId}`), '1', 'EX', EVENT_TTL_S, 'NX');
    if (fresh !== 'OK') return { ok: true, message: '' };
    const rec = await this.d.store.get(a.jobId);
    if (!rec?.params || !rec.origin || rec.platform !== a.platform || rec.workspace !== a.workspace) {
      return { ok: false, message: t(locale, 'actions.unknown_job', { job: a.jobId }) };
    }
    if (a.kind === 'cancel') {
      const outcome = await this.d.lifecycle.cancel(a.jobId, rec.origin, { user: a.user, mayCancelOthers: async () => (await this.d.quota.roleOf(a)).manager });
      return { ok: outcome === 'cancelled' || outcome === 'cancelling', message: t(locale, CANCEL_TEXT[outcome]) };
    }
    // A click in the job's own thread: where the platform does not say what the channel is, the job's kind holds.
    const clicker = { ...a, channelKind: a.channelKind ?? rec.origin.channelKind };
    return this.again(clicker, rec.params, a.kind === 'regenerate' ? 1 : 4, locale);
  }

  private async again(a: BotAction, params: GenerateParams, count: number, locale: string): Promise<ActionResult> {
    const next: GenerateParams = { ...params, count, seed: newSeed() };
    const admission = await admitClick(this.d.quota, a, { params: next, channel: a.channel, locale });
    if (!admission.ok) {
      this.d.hooks?.quotaRefused(a.platform, admission.reason);
      return { ok: false, message: admission.reply };
    }
    const origin = originOf(a, { locale, eventId: `${a.kind}:${a.eventId}` });
    const { jobId } = await this.d.lifecycle.submit(origin, next, { jobId: admission.jobId, weight: admission.weight, rank: admission.rank, charge: admission.charge });
    this.d.log.info({ jobId, from: a.jobId, kind: a.kind, user: a.user }, 'queued from a button');
    return { ok: true, message: t(locale, count === 1 ? 'actions.regenerating' : 'actions.variations', { count }) };
  }
}
