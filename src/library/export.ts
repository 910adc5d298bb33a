/**
 * Compliance export: the provenance rows of a date range and filter as CSV or JSON Lines, streamed. Rows are
 * read in keyset batches of EXPORT_BATCH, and the next batch is read only when the consumer has taken the
 * previous one, so memory stays bounded however large the range. Auditors only; tombstones are included
 * (with who deleted them and when) unless the filter says otherwise.
 */
import { pipeline, Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import type { Kysely } from 'kysely';
import { requireAudit } from './holds.js';
import { recordFromRow, type ImageRecord, type RecordRow } from './image-row.js';
import { pageOfRows, type ImageFilter } from './queries.js';
import type { LibrarySchema } from './schema.js';
import type { Viewer } from './visibility.js';

export type ExportFormat = 'csv' | 'jsonl';

export const EXPORT_BATCH = 500;

/** CSV columns, in order (JSON Lines carry the same facts as ImageRecord objects). */
export const EXPORT_COLUMNS = [
  'id', 'created_at', 'platform', 'workspace', 'channel', 'channel_kind', 'user', 'user_name', 'prompt',
  'template_id', 'template_version', 'model_id', 'model_name', 'model_version', 'model_demo', 'seed', 'width', 'height',
  'steps', 'queue_wait_ms', 'generation_ms', 'step_ms', 'job_id', 'image_index', 'asset_key', 'thumbnail_key',
  'legal_hold', 'deleted_at', 'deleted_by', 'delete_reason',
] as const;

export interface ExportResult {
  stream: Readable;
  contentType: string;
  /** A file name for the download, e.g. `zimage-provenance-2026-11-01-2026-12-01.csv`. */
  filename: string;
  /**
   * Settles when the stream has ended or was abandoned: the rows written, and whether the export ran to the
   * end. Never rejects (a failed read shows as an error on the stream itself).
   */
  done: Promise<{ rows: number; complete: boolean }>;
}

function csvRow(r: ImageRecord): Record<(typeof EXPORT_COLUMNS)[number], string | number | boolean | null> {
  return {
    id: r.id, created_at: r.createdAt, platform: r.platform, workspace: r.workspace, channel: r.channel, channel_kind: r.channelKind,
    user: r.user, user_name: r.userName, prompt: r.prompt, template_id: r.template?.id ?? null, template_version: r.template?.version ?? null,
    model_id: r.model.id, model_name: r.model.name, model_version: r.model.version, model_demo: r.model.demo, seed: r.seed,
    width: r.width, height: r.height, steps: r.steps, queue_wait_ms: r.timings.queueWaitMs, generation_ms: r.timings.generationMs,
    step_ms: r.timings.stepMs, job_id: r.jobId, image_index: r.index, asset_key: r.assetKey, thumbnail_key: r.thumbnailKey,
    legal_hold: r.legalHold, deleted_at: r.deleted?.at ?? null, deleted_by: r.deleted?.by ?? null, delete_reason: r.deleted?.reason ?? null,
  };
}

/** The filter's rows, newest first, one batch in memory at a time. */
async function* exportRows(db: Kysely<LibrarySchema>, viewer: Viewer, f: ImageFilter, batch: number, counted: { n: number }): AsyncGenerator<ImageRecord> {
  let cursor: { at: Date; id: string } | undefined;
  for (;;) {
    const rows: RecordRow[] = await pageOfRows(db, viewer, f, batch, cursor);
    for (const row of rows) {
      counted.n++;
      yield recordFromRow(row);
    }
    if (rows.length < batch) return;
    const last = rows.at(-1)!;
    cursor = { at: new Date(last.created_at), id: last.id };
  }
}

const day = (d: Date | undefined): string => (d ? d.toISOString().slice(0, 10) : 'all');

/** What an export of this filter and format is sent as, without reading anything (a HEAD on the download link). */
export function exportFileOf(filter: ImageFilter, format: ExportFormat): Pick<ExportResult, 'contentType' | 'filename'> {
  return {
    contentType: format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
    filename: `zimage-provenance-${day(filter.from)}-${day(filter.to)}.${format}`,
  };
}

export function exportImages(
  db: Kysely<LibrarySchema>, viewer: Viewer, filter: ImageFilter, format: ExportFormat, o: { batch?: number } = {},
): ExportResult {
  requireAudit(viewer);
  const counted = { n: 0 };
  const records = exportRows(db, viewer, { includeDeleted: true, ...filter }, o.batch ?? EXPORT_BATCH, counted);
  let stream: Readable;
  if (format === 'csv') {
    // escape_formulas: a cell starting with = + - @ is prefixed with ' so a spreadsheet shows it as text.
    const csv = stringify({ header: true, columns: [...EXPORT_COLUMNS], escape_formulas: true, cast: { boolean: (v) => (v ? 'true' : 'false') } });
    const rows = Readable.from((async function* () { for await (const r of records) yield csvRow(r); })(), { objectMode: true });
    // pipeline: a failed read errors the CSV stream, and a consumer that stops reading stops the reads.
    stream = pipeline(rows, csv, () => undefined);
  } else {
    stream = Readable.from((async function* () { for await (const r of records) yield `${JSON.stringify(r)}\n`; })());
  }
  const done = finished(stream).then(() => ({ rows: counted.n, complete: true }), () => ({ rows: counted.n, complete: false }));
  return { stream, ...exportFileOf(filter, format), done };
}
