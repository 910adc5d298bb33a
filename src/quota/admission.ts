/**
 * Admission of a generation request: the requester's role limits (size, count, templates only), then the
 * quota reserved atomically under the job's id. A refusal says why and when the quota resets; nothing is
 * queued and nothing is charged then.
 */
import type { BotRequest } from '../chat/types.js';
import { t } from '../i18n/index.js';
import { newJobId } from '../jobs/job-id.js';
import type { ChargeInfo, GenerateParams } from '../jobs/types.js';
import { imagesText, resetText } from './format.js';
import type { QuotaService, Standing } from './service.js';

export type Admission =
  | { ok: true; jobId: string; charge: ChargeInfo; weight: number }
  | { ok: false; reply: string; reason: RefusalReason }
  /** Only with a remembered standing: `stale` — read it again and admit the long way; `duplicate` — a retried event. */
  | { ok: false; skip: 'stale' | 'duplicate' };

/** Why admission said no (a metrics label). */
export type RefusalReason = 'over_quota' | 'templates_only' | 'template_not_allowed' | 'max_side' | 'max_count' | 'too_many_waiting' | 'rate_limited';

export interface AdmissionInput {
  request: Pick<BotRequest, 'platform' | 'workspace' | 'user' | 'channel'>;
  params: Pick<GenerateParams, 'width' | 'height' | 'count'>;
  locale: string;
  /** Set when the request comes from a template preset (free prompts are then allowed for templatesOnly roles). */
  template?: string;
  /** The requester's standing, already being read (saves a round trip); read here otherwise. */
  standing?: Promise<Standing>;
  /**
   * The requester's remembered standing (QuotaService.recent) and the request's idempotency mark: admission
   * in one round trip, valid only if no role or limit changed since. A refusal is never given on it alone.
   */
  recent?: { standing: Standing; mark: { key: string; ttlS: number } };
}

export async function admit(quota: QuotaService, a: AdmissionInput): Promise<Admission> {
  const id = { platform: a.request.platform, workspace: a.request.workspace, user: a.request.user };
  const standing = a.recent?.standing ?? await (a.standing ?? quota.standing(id));
  const refusal = roleRefusal(standing, a);
  if (refusal) return a.recent ? { ok: false, skip: 'stale' } : refusal;
  const jobId = newJobId();
  const res = await quota.reserve(jobId, id, a.request.channel, a.params.count, standing, a.recent ? { checkVersion: true, mark: a.recent.mark } : {});
  if (res.outcome === 'stale' || res.outcome === 'duplicate') return { ok: false, skip: res.outcome };
  const L = a.locale;
  const s = res.standing;
  const limit = s.limit.limit;
  // Both counts are live (read in the same step); the bound is the role's, which a change would have made stale.
  if (res.outcome === 'busy') return busyRefusal(s.used, standing.role.maxWaiting ?? s.used, L);
  if (res.outcome === 'rate_limited') return rateRefusal(standing.role.commandsPerMinute ?? s.used, s.used, quota.secondsUntil(res.freeAt ?? quota.now()), L);
  if (!res.ok) {
    return {
      ok: false,
      reason: 'over_quota',
      reply: t(L, 'quota.refused', {
        cost: imagesText(res.cost, L), used: s.used, limit: limit.unlimited ? '∞' : limit.amount,
        period: t(L, `quota.period_${s.period}`), reset: resetText(s.window.end, quota.timezone, L, quota.now()),
      }),
    };
  }
  return {
    ok: true, jobId, weight: standing.role.policy.weight,
    charge: {
      cost: res.cost, used: s.used, limit: limit.unlimited ? null : limit.amount, period: s.period,
      resetAt: s.window.end, timezone: quota.timezone,
    },
  };
}

/** What the requester's role does not allow in this request (size, count, free prompts, presets), if anything. */
function roleRefusal(standing: Standing, a: AdmissionInput): Admission | null {
  const role = standing.role;
  const p = role.policy;
  const L = a.locale;
  if (p.templatesOnly && !a.template) {
    return { ok: false, reason: 'templates_only', reply: t(L, 'quota.templates_only', { role: role.role, templates: (p.templates ?? []).join(', ') || '—' }) };
  }
  if (a.template && p.templates && !p.templates.includes(a.template)) {
    return { ok: false, reason: 'template_not_allowed', reply: t(L, 'quota.template_not_allowed', { role: role.role, template: a.template, templates: p.templates.join(', ') }) };
  }
  if (p.maxSide !== undefined && Math.max(a.params.width, a.params.height) > p.maxSide) {
    return { ok: false, reason: 'max_side', reply: t(L, 'quota.max_side', { role: role.role, size: `${a.params.width}x${a.params.height}`, max: p.maxSide }) };
  }
  if (p.maxCount !== undefined && a.params.count > p.maxCount) {
    return { ok: false, reason: 'max_count', reply: t(L, 'quota.max_count', { role: role.role, count: imagesText(a.params.count, L), max: imagesText(p.maxCount, L) }) };
  }
  return null;
}

/** Too many jobs waiting: how many, and how to make room. */
export function busyRefusal(waiting: number, max: number, locale: string): Admission {
  return { ok: false, reason: 'too_many_waiting', reply: t(locale, 'quota.too_many_waiting', { waiting, max }) };
}

/**
 * Too many commands this minute: the bound, and when to try again. Only the first refusal of a minute says so
 * (`count` is the command's number in the minute): a flood must not become a flood of replies (empty reply).
 */
export function rateRefusal(perMinute: number, count: number, seconds: number, locale: string): Admission & { ok: false; reply: string } {
  return { ok: false, reason: 'rate_limited', reply: count === perMinute + 1 ? t(locale, 'quota.rate_limited', { max: perMinute, seconds }) : '' };
}
