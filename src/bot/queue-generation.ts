/** Admission (role limits + quota) and queueing in one step: used by commands, buttons and schedules. */
import type { GenerateJobData, GenerateParams, JobOrigin } from '../jobs/types.js';
import type { ObservabilityHooks } from '../jobs/hooks.js';
import type { QuotaService, Standing } from '../quota/service.js';
import { admit, type AdmissionInput } from '../quota/admission.js';
import { submitGeneration, unqueue, type SubmitDeps } from './submit.js';

export interface QueueOptions {
  template?: string;
  extra?: Pick<GenerateJobData, 'template' | 'post'>;
  /** The requester's quota standing, when the caller has already started reading it. */
  standing?: Promise<Standing>;
}

export type QueueOutcome = { ok: true; jobId: string } | { ok: false; reply: string };
/** Nothing done: the remembered standing was out of date, or the event was a retry. */
export type Skipped = { ok: false; skip: 'stale' | 'duplicate' };
type Deps = SubmitDeps & { quota: QuotaService; hooks?: ObservabilityHooks };

/** With the requester's remembered standing and the request's idempotency mark: one round trip to admit (see AdmissionInput.recent). */
export function queueGeneration(d: Deps, origin: JobOrigin, params: GenerateParams, opts: QueueOptions & { recent: NonNullable<AdmissionInput['recent']> }): Promise<QueueOutcome | Skipped>;
export function queueGeneration(d: Deps, origin: JobOrigin, params: GenerateParams, opts?: QueueOptions): Promise<QueueOutcome>;
export async function queueGeneration(
  d: Deps,
  origin: JobOrigin,
  params: GenerateParams,
  opts: QueueOptions & Pick<AdmissionInput, 'recent'> = {},
): Promise<QueueOutcome | Skipped> {
  const admission = await admit(d.quota, {
    request: origin, params, locale: origin.locale, ...(opts.template ? { template: opts.template } : {}), ...(opts.standing ? { standing: opts.standing } : {}),
    ...(opts.recent ? { recent: opts.recent } : {}),
  });
  if (!admission.ok && 'skip' in admission) return admission;
  if (!admission.ok) {
    d.hooks?.quotaRefused(origin.platform, admission.reason);
    return { ok: false, reply: admission.reply };
  }
  try {
    await submitGeneration(d, origin, params, {
      jobId: admission.jobId, weight: admission.weight, charge: admission.charge, ...(opts.extra ? { extra: opts.extra } : {}),
    });
  } catch (err) {
    // The job was not written (it goes in one transaction with its status record): its place in line and its
    // charge go back — now, or once Redis answers again if it is unreachable.
    await d.quota.refundOrDefer(admission.jobId, async () => !(await d.store.exists(admission.jobId)), () => unqueue(d, origin, admission.jobId));
    throw err;
  }
  return { ok: true, jobId: admission.jobId };
}
