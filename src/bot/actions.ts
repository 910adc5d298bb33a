/**
 * Button clicks: Cancel (the requester; queued jobs leave the line at once, a running job stops between
 * denoising steps on whichever worker holds it), Regenerate (same prompt, new seed) and Variations ×4
 * (four new seeds, delivered as four images). Clicks are idempotent by their event id.
 */
import { randomInt } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { ActionResult, BotAction, ChatAdapter } from '../chat/types.js';
import { normalizeLocale, t } from '../i18n/index.js';
import type { Logger } from '../infra/logger.js';
import { isRedisUnavailable } from '../infra/redis-health.js';
import type { Keys } from '../jobs/keys.js';
import type { Queues } from '../jobs/queues.js';
import { channelKindOf, type GenerateParams, type JobOrigin } from '../jobs/types.js';
import type { StatusStore } from '../status/status-store.js';
import { EVENT_TTL_S } from './request-router.js';
import type { ObservabilityHooks } from '../jobs/hooks.js';
import type { QuotaService } from '../quota/service.js';
import { endJob } from './job-end.js';
import { queueGeneration } from './queue-generation.js';

export interface ActionDeps {
  redis: Redis;
  keys: Keys;
  queues: Queues;
  store: StatusStore;
  adapters: ReadonlyMap<string, ChatAdapter>;
  quota: QuotaService;
  hooks?: ObservabilityHooks;
  log: Logger;
}

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
    switch (a.kind) {
      case 'cancel': return this.cancel(a, rec.origin, locale);
      // A click in the job's own thread: where the platform does not say what the channel is, the job's kind holds.
      case 'regenerate': return this.again({ ...a, channelKind: a.channelKind ?? rec.origin.channelKind }, rec.params, 1, locale);
      case 'variations': return this.again({ ...a, channelKind: a.channelKind ?? rec.origin.channelKind }, rec.params, 4, locale);
    }
  }

  private async cancel(a: BotAction, origin: JobOrigin, locale: string): Promise<ActionResult> {
    if (origin.user !== a.user && !(await this.d.quota.roleOf(a)).manager) return { ok: false, message: t(locale, 'actions.cancel_not_yours') };
    const job = await this.d.queues.generate.getJob(a.jobId);
    const state = job ? await job.getState() : 'unknown';
    if (state === 'waiting' || state === 'prioritized' || state === 'delayed') {
      const removed = await this.d.queues.generate.remove(a.jobId);
      if (removed === 1) {
        await this.d.redis.srem(this.d.keys.userWaiting(origin.platform, origin.workspace, origin.user), a.jobId);
        await endJob(this.d, a.jobId, { phase: 'cancelled', jobId: a.jobId }, { ...origin, jobId: a.jobId, acceptedAt: job?.timestamp ?? Date.now() });
        this.d.log.info({ jobId: a.jobId, user: a.user }, 'cancelled while queued');
        return { ok: true, message: t(locale, 'actions.cancelled') };
      }
    }
    if (state === 'active' || state === 'waiting' || state === 'prioritized') {
      // Running (or started between the two reads): the worker holding it stops between steps.
      await this.d.redis.publish(this.d.keys.cancelChannel(), a.jobId);
      this.d.log.info({ jobId: a.jobId, user: a.user }, 'cancel relayed to workers');
      return { ok: true, message: t(locale, 'actions.cancelling') };
    }
    return { ok: false, message: t(locale, 'actions.already_finished') };
  }

  private async again(a: BotAction, params: GenerateParams, count: number, locale: string): Promise<ActionResult> {
    const adapter = this.d.adapters.get(a.platform);
    if (!adapter) return { ok: false, message: t(locale, 'actions.unknown_job', { job: a.jobId }) };
    const origin: JobOrigin = {
      platform: a.platform, workspace: a.workspace, channel: a.channel, channelKind: channelKindOf(a.channelKind), thread: a.thread, user: a.user,
      locale, eventId: `${a.kind}:${a.eventId}`, ...(a.userName ? { userName: a.userName } : {}),
    };
    const next: GenerateParams = { ...params, count, seed: randomInt(0, 2 ** 32) };
    const outcome = await queueGeneration({ ...this.d, adapter }, origin, next);
    if (!outcome.ok) return { ok: false, message: outcome.reply };
    this.d.log.info({ jobId: outcome.jobId, from: a.jobId, kind: a.kind, user: a.user }, 'queued from a button');
    return { ok: true, message: t(locale, count === 1 ? 'actions.regenerating' : 'actions.variations', { count }) };
  }
}
