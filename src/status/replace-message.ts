/**
 * A status message the platform will no longer let the bot edit (MESSAGE_NOT_EDITABLE: too old, edited too
 * often) is replaced by a fresh one in the same thread showing the current view; the job's record points at
 * it from then on, so every later edit — "Done" included — goes to the new message. One mechanism for every
 * platform: adapters only say that a message cannot be edited any more.
 */
import type { ChatAdapter, StatusView } from '../chat/types.js';
import { retryAfterOf } from '../errors.js';
import type { Logger } from '../infra/logger.js';
import type { EditCandidate, EditPacer } from './edit-pacer.js';
import type { StatusRecord, StatusStore } from '../jobs/status-store.js';

/** After a failed post of the replacement, wait at least this long before trying again. */
const RETRY_MS = 5000;

export async function replaceStatusMessage(
  d: { store: StatusStore; log: Logger }, adapter: ChatAdapter, pacer: EditPacer, c: EditCandidate,
  rec: StatusRecord, view: StatusView, final: boolean,
): Promise<void> {
  const { jobId } = rec;
  try {
    const message = await adapter.postStatus(rec.thread, view, rec.locale, { replaces: c.message });
    await d.store.setMessage(jobId, message);
    rec.message = message;
    pacer.forget(c.message);
    pacer.shown(message, c.key, Date.now());
    d.log.info({ jobId, platform: rec.platform, old: c.message, message }, 'status message can no longer be edited; posted a new one');
    // As after an edit: a final view now shown closes the job (unless another final was recorded meanwhile).
    if (final && await d.store.close(jobId, view)) pacer.forget(message);
  } catch (err) {
    // The old message stays on record: the next edit finds it still not editable and tries again.
    pacer.end(c, false, Date.now(), Math.max(RETRY_MS, retryAfterOf(err)));
    d.log.warn({ err, jobId, platform: rec.platform }, 'could not post a new status message; will retry');
  }
}
