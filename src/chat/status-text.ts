/**
 * Platform-neutral wording of a job's status and of an image's metadata. Adapters render these texts in
 * their own idiom (Block Kit, Lark card, Playground HTML); they never compose status wording themselves.
 */
import { formatDuration, formatEta, messageText, placeholdersOf, t } from '../i18n/index.js';
import type { ImageMetadata } from '../jobs/types.js';
import { chargeLine } from '../quota/format.js';
import type { StatusView } from './types.js';

/** A failure reason that is a stable error code with a parameterless text (e.g. `INTERNAL`) is shown as that text. */
function failureReason(reason: string, locale: string): string {
  if (!/^[A-Z][A-Z0-9_]*$/.test(reason)) return reason;
  const text = messageText(locale, `errors.${reason}`);
  return text !== undefined && placeholdersOf(text).length === 0 ? text : reason;
}

/** One line for the status message, e.g. `Queued — position 2 of 3, about 6 s` or `Generating — step 3/8`. */
export function statusHeadline(view: StatusView, locale: string): string {
  switch (view.phase) {
    case 'queued': {
      // Position 0: in the queue but not in the line right now (waiting to retry after a worker problem).
      if (view.position < 1) return t(locale, 'status.queued_retry');
      const eta = formatEta(view.etaMs, locale);
      const params = { position: view.position, total: view.total };
      return eta === undefined ? t(locale, 'status.queued', params) : t(locale, 'status.queued_eta', { ...params, eta });
    }
    case 'generating': {
      const params = { image: view.image, count: view.count, step: view.step, steps: view.steps };
      return t(locale, view.count > 1 ? 'status.generating_batch' : 'status.generating', params);
    }
    case 'finishing':
      return t(locale, 'status.finishing');
    case 'done':
      return t(locale, view.images === 1 ? 'status.done_one' : 'status.done_other', {
        images: view.images,
        duration: formatDuration(view.totalMs, locale),
      });
    case 'failed':
      return t(locale, 'status.failed', { reason: failureReason(view.reason, locale) });
    case 'cancelled':
      return t(locale, 'status.cancelled');
  }
}

export type MetadataField = 'prompt' | 'seed' | 'size' | 'steps' | 'model' | 'queueWait' | 'generation' | 'job' | 'quota';

/** One label/value pair of an image's metadata; `field` lets adapters style values (e.g. the prompt as a quote). */
export interface MetadataLine {
  field: MetadataField;
  label: string;
  value: string;
}

/** The metadata shown under an image, in display order. Demo-model images say so in the model line. */
export function metadataLines(meta: ImageMetadata, locale: string): MetadataLine[] {
  const line = (field: MetadataField, key: string, value: string): MetadataLine => ({ field, label: t(locale, `metadata.${key}`), value });
  // The demo engine's name already says "demo model"; show its id with the marker instead of repeating it.
  const model = meta.model.demo ? t(locale, 'metadata.model_demo', { name: meta.model.id }) : meta.model.name;
  return [
    line('prompt', 'prompt', meta.prompt),
    line('seed', 'seed', String(meta.seed)),
    line('size', 'size', `${meta.width}×${meta.height}`),
    line('steps', 'steps', String(meta.steps)),
    line('model', 'model', model),
    line('queueWait', 'queue_wait', formatDuration(meta.queueWaitMs, locale)),
    line('generation', 'generation', formatDuration(meta.generationMs, locale)),
    line('job', 'job', meta.jobId),
    ...(meta.charge ? [line('quota', 'quota', chargeLine(meta.charge, locale))] : []),
  ];
}
