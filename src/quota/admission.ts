/**
 * Admission of one request: is it new (the platform event's idempotency mark), within the person's command
 * rate, within their role's limits (size, count, templates only), and within their quota — charged atomically
 * under the job's id. A refusal says why (and when the quota resets); nothing is queued or charged then.
 *
 * A request opens a `Ticket` as it arrives and then, once it is parsed, either `consume`s it (any command but a
 * generation) or `charge`s it (a generation). The ticket hides how: the mark, the rate count and the charge
 * happen in one Redis script that checks the standing it was given still holds. For someone who asked within
 * the last minute the bot remembers their standing; for anyone else the ticket reads it as the request
 * arrives, while it is parsed. When the standing no longer holds (a manager changed a role or limit) or the
 * role refuses the request, the ticket sets the mark on its own and admits the long way. Callers only ever see
 * three answers: admitted, refused, or a duplicate (a platform retry: do nothing).
 */
import { t } from '../i18n/index.js';
import { newJobId } from '../jobs/job-id.js';
import type { FairRank } from '../jobs/fair-share.js';
import type { ChargeInfo, GenerateParams } from '../jobs/types.js';
import { imagesText, resetText } from './format.js';
import type { Identity, QuotaService, ReserveResult, Standing } from './service.js';

/** Why admission said no (a metrics label). */
export type RefusalReason = 'over_quota' | 'templates_only' | 'template_not_allowed' | 'max_side' | 'max_count' | 'too_many_waiting' | 'rate_limited';

/** A refusal: what to tell the person (empty: say nothing, e.g. the rate limit's second refusal in a minute). */
export interface Refusal { ok: false; reason: RefusalReason; reply: string }

/** `rank`: the place in line taken with the charge (absent when the job had been charged before). */
export type Admitted = { ok: true; jobId: string; charge: ChargeInfo; weight: number; rank?: FairRank };
export type Admission = Admitted | Refusal | { ok: false; duplicate: true };
export type Consumed = { ok: true } | Refusal | { ok: false; duplicate: true };

export interface ChargeInput {
  params: Pick<GenerateParams, 'width' | 'height' | 'count'>;
  channel: string;
  locale: string;
  /** Set when the request comes from a template preset (free prompts are then allowed for templatesOnly roles). */
  template?: string;
}

const DUPLICATE = { ok: false, duplicate: true } as const;

export class Ticket {
  private marked: Promise<{ fresh: boolean; count: number; freeAt: number }> | undefined;
  private standing: Promise<Standing> | undefined;

  constructor(private readonly quota: QuotaService, private readonly id: Identity, private readonly mark: { key: string; ttlS: number }) {
    // Nobody remembered: the standing goes out now, while the request is being parsed.
    if (!quota.recent(id)) this.readStanding();
  }

  private readStanding(): void {
    this.standing = this.quota.standing(this.id);
    this.standing.catch(() => undefined); // unused for duplicates; the caller sees its error otherwise
  }

  /** Any command but a generation: new, and within the rate limit? */
  async consume(locale: string): Promise<Consumed> {
    this.marked ??= this.quota.markEvent(this.id, this.mark.key, this.mark.ttlS);
    const marked = await this.marked;
    if (!marked.fresh) return DUPLICATE;
    const standing = this.standing ? await this.standing : this.quota.recent(this.id)!;
    const perMinute = standing.role.commandsPerMinute;
    if (perMinute !== null && marked.count > perMinute) return rateRefusal(perMinute, marked.count, this.quota.secondsUntil(marked.freeAt), locale);
    return { ok: true };
  }

  /** A generation: new, within the rate limit, the role and the quota? Charged under a new job id when it is. */
  async charge(input: ChargeInput): Promise<Admission> {
    const known = this.marked ? null : (this.standing ? await this.standing : this.quota.recent(this.id));
    if (known && !roleRefusal(known, input, input.locale)) {
      const jobId = newJobId();
      const res = await this.quota.reserve(jobId, this.id, input.channel, input.params.count, known, { checkVersion: true, mark: this.mark });
      if (res.outcome === 'duplicate') return DUPLICATE;
      // The mark is set now (rate counted, nothing charged when refused): what comes back is the answer.
      if (res.outcome !== 'stale') return answerOf(this.quota, jobId, res, known, input.locale);
      // A role or limit changed since the standing was read: the long way, with a fresh standing.
      this.readStanding();
    } else if (!this.standing) {
      this.readStanding();
    }
    const consumed = await this.consume(input.locale);
    if (!consumed.ok) return consumed;
    const standing = await this.standing!;
    const refusal = roleRefusal(standing, input, input.locale);
    if (refusal) return refusal;
    const jobId = newJobId();
    return answerOf(this.quota, jobId, await this.quota.reserve(jobId, this.id, input.channel, input.params.count, standing), standing, input.locale);
  }
}

/** What a charge attempt means for the person. */
function answerOf(quota: QuotaService, jobId: string, res: ReserveResult, standing: Standing, L: string): Admitted | Refusal {
  const s = res.standing;
  const limit = s.limit.limit;
  // Both counts are live (read in the same step); the bound is the role's, which a change would have made stale.
  if (res.outcome === 'busy') return { ok: false, reason: 'too_many_waiting', reply: t(L, 'quota.too_many_waiting', { waiting: s.used, max: standing.role.maxWaiting ?? s.used }) };
  if (res.outcome === 'rate_limited') return rateRefusal(standing.role.commandsPerMinute ?? s.used, s.used, quota.secondsUntil(res.freeAt ?? quota.now()), L);
  if (!res.ok) {
    return {
      ok: false, reason: 'over_quota',
      reply: t(L, 'quota.refused', {
        cost: imagesText(res.cost, L), used: s.used, limit: limit.unlimited ? '∞' : limit.amount,
        period: t(L, `quota.period_${s.period}`), reset: resetText(s.window.end, quota.timezone, L, quota.now()),
      }),
    };
  }
  return {
    ok: true, jobId, weight: standing.role.policy.weight, rank: res.rank,
    charge: { cost: res.cost, used: s.used, limit: limit.unlimited ? null : limit.amount, period: s.period, resetAt: s.window.end, timezone: quota.timezone },
  };
}

/** Admission without an event mark (a button click, deduplicated by its own id): role limits and quota. */
export async function admitClick(quota: QuotaService, id: Identity, input: ChargeInput): Promise<Admitted | Refusal> {
  const standing = await quota.standing(id);
  const refusal = roleRefusal(standing, input, input.locale);
  if (refusal) return refusal;
  const jobId = newJobId();
  return answerOf(quota, jobId, await quota.reserve(jobId, id, input.channel, input.params.count, standing), standing, input.locale);
}

/**
 * Too many commands this minute: the bound, and when to try again. Only the first refusal of a minute says so
 * (`count` is the command's number in the minute): a flood must not become a flood of replies (empty reply).
 */
export function rateRefusal(perMinute: number, count: number, seconds: number, locale: string): Refusal {
  return { ok: false, reason: 'rate_limited', reply: count === perMinute + 1 ? t(locale, 'quota.rate_limited', { max: perMinute, seconds }) : '' };
}

/** What the requester's role does not allow in this request (size, count, free prompts, presets), if anything. */
function roleRefusal(standing: Standing, a: Pick<ChargeInput, 'params' | 'template'>, L: string): Refusal | null {
  const role = standing.role;
  const p = role.policy;
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
