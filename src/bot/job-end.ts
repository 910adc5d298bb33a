import type { StatusView } from '../chat/types.js';
import type { QuotaService } from '../quota/service.js';
import type { StatusRecord, StatusStore } from '../status/status-store.js';

/**
 * A job ended: record its final state for the status tracker and, unless it produced images, give its
 * quota back (failure, cancel, safety block). Both steps are idempotent, so retries are harmless.
 */
export async function endJob(
  d: { store: StatusStore; quota: QuotaService },
  jobId: string,
  view: StatusView,
  fallback: Omit<StatusRecord, 'final' | 'message'>,
): Promise<void> {
  if (view.phase !== 'done') await d.quota.refund(jobId);
  await d.store.finish(jobId, view, fallback);
}
