/**
 * One image's row: built from its provenance record (the sidecar: the bot builds the same record from the
 * delivery, the backfill reads it from the store), written with an idempotent upsert, and read back as the
 * API's ImageRecord.
 */
import type { Insertable, Kysely, Selectable } from 'kysely';
import { z } from 'zod';
import { provenanceRecord, type ProvenanceRecord } from '../assets/provenance.js';
import { channelKindOf, type ChannelKind, type StoredImage } from '../jobs/types.js';
import { storableValue } from './pg-text.js';
import type { ImagesTable, LibrarySchema } from './schema.js';

export type ImageRow = Selectable<ImagesTable>;
export type NewImageRow = Insertable<ImagesTable>;
/** What a list reads of a row: everything but the stored sidecar and the search pieces. */
export type RecordRow = Omit<ImageRow, 'provenance' | 'cjk_grams'>;

export const RECORD_COLUMNS = [
  'images.id', 'images.job_id', 'images.image_index', 'images.asset_key', 'images.thumb_key', 'images.platform', 'images.workspace',
  'images.channel', 'images.channel_kind', 'images.user_id', 'images.user_name', 'images.prompt', 'images.template_id',
  'images.template_version', 'images.model_id', 'images.model_name', 'images.model_version', 'images.model_demo', 'images.seed',
  'images.width', 'images.height', 'images.steps', 'images.queue_wait_ms', 'images.generation_ms', 'images.step_ms',
  'images.created_at', 'images.indexed_at', 'images.updated_at', 'images.legal_hold', 'images.held_by', 'images.held_at',
  'images.deleted_at', 'images.deleted_by', 'images.delete_reason',
] as const;

/** An indexed image as the library API returns it (JSON-safe). */
export interface ImageRecord {
  id: string;
  jobId: string;
  index: number;
  assetKey: string;
  thumbnailKey: string | null;
  platform: string;
  workspace: string;
  channel: string;
  channelKind: ChannelKind;
  user: string;
  userName: string | null;
  prompt: string;
  template: { id: string; version: string | null } | null;
  model: { id: string; name: string; version: string | null; demo: boolean };
  seed: number;
  width: number;
  height: number;
  steps: number;
  timings: { queueWaitMs: number; generationMs: number; stepMs: number | null };
  /** ISO 8601: when the image was made. */
  createdAt: string;
  legalHold: boolean;
  /** Set on a tombstone: the image's files are gone, the provenance stays for auditors. */
  deleted: { at: string; by: string; reason: string } | null;
}

/** One image with its full provenance record (the sidecar as written: charge, timings and all). */
export interface ImageDetail extends ImageRecord {
  provenance: Record<string, unknown>;
}

/** What a sidecar must hold to be indexed; fields added later are optional, unknown ones are kept in `provenance`. */
const sidecarSchema = z.object({
  file: z.string().min(1),
  jobId: z.string().min(1),
  index: z.number().int().min(0),
  prompt: z.string(),
  seed: z.number().int().min(0),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  steps: z.number().int().positive(),
  model: z.object({ id: z.string(), name: z.string(), demo: z.boolean(), version: z.string().nullish() }),
  template: z.object({ id: z.string(), version: z.string().nullish() }).nullish(),
  platform: z.string().min(1),
  workspace: z.string().min(1),
  channel: z.string().min(1),
  channelKind: z.string().optional(),
  user: z.string().min(1),
  userName: z.string().optional(),
  createdAt: z.string().optional(),
  timestamp: z.string().optional(),
  queueWaitMs: z.number().min(0).optional(),
  generationMs: z.number().min(0).optional(),
  stepMs: z.number().nullish(),
  timings: z.object({ queueWaitMs: z.number(), generationMs: z.number(), stepMs: z.number().nullish() }).partial().optional(),
  thumbnailKey: z.string().optional(),
}).passthrough();

/**
 * The largest timing a row holds: queue_wait_ms and generation_ms are 32-bit integer columns (about 24.8 days).
 * A job that waited longer (a queue left paused over a holiday) is written at this bound rather than refused.
 */
export const MAX_TIMING_MS = 2_147_483_647;
const boundedMs = (ms: number): number => Math.min(Math.max(ms, 0), MAX_TIMING_MS);
const nullableMs = (ms: number | null | undefined): number | null => (ms === null || ms === undefined ? null : boundedMs(ms));

/** The row for a provenance record, or the reason it cannot be indexed. */
export function rowFromProvenance(record: unknown, overrides: { thumbnailKey?: string | null } = {}): NewImageRow | { error: string } {
  const parsed = sidecarSchema.safeParse(record);
  if (!parsed.success) return { error: parsed.error.issues.map((i) => `${i.path.join('.') || '(record)'}: ${i.message}`).join('; ') };
  // A prompt may hold what PostgreSQL cannot store (a NUL typed into the Playground): the row has U+FFFD there.
  const r = storableValue(parsed.data);
  const createdAt = new Date(r.createdAt ?? r.timestamp ?? '');
  if (Number.isNaN(createdAt.getTime())) return { error: 'createdAt: not a date' };
  const now = new Date();
  return {
    id: `${r.jobId}-${r.index}`,
    job_id: r.jobId,
    image_index: r.index,
    asset_key: r.file,
    thumb_key: overrides.thumbnailKey !== undefined ? overrides.thumbnailKey : (r.thumbnailKey ?? null),
    platform: r.platform,
    workspace: r.workspace,
    channel: r.channel,
    channel_kind: channelKindOf(r.channelKind),
    user_id: r.user,
    user_name: r.userName ?? null,
    prompt: r.prompt,
    template_id: r.template?.id ?? null,
    template_version: r.template?.version ?? null,
    model_id: r.model.id,
    model_name: r.model.name,
    model_version: r.model.version ?? null,
    model_demo: r.model.demo,
    seed: r.seed,
    width: r.width,
    height: r.height,
    steps: r.steps,
    queue_wait_ms: Math.round(boundedMs(r.timings?.queueWaitMs ?? r.queueWaitMs ?? 0)),
    generation_ms: Math.round(boundedMs(r.timings?.generationMs ?? r.generationMs ?? 0)),
    step_ms: nullableMs(r.timings?.stepMs ?? r.stepMs),
    created_at: createdAt,
    indexed_at: now,
    updated_at: now,
    provenance: JSON.stringify(r),
  };
}

/**
 * The rows of a delivered job's images (the same provenance the worker wrote as their sidecars), and those
 * that cannot be indexed (malformed records: skipped, not retried).
 */
export function rowsFromStored(images: readonly StoredImage[]): { rows: NewImageRow[]; invalid: Array<{ key: string; error: string }> } {
  const rows: NewImageRow[] = [];
  const invalid: Array<{ key: string; error: string }> = [];
  for (const image of images) {
    const row = rowFromProvenance(provenanceRecord(image.metadata, image.key) satisfies ProvenanceRecord);
    if ('error' in row) invalid.push({ key: String(image.key), error: row.error });
    else rows.push(row);
  }
  return { rows, invalid };
}

/**
 * Insert or refresh rows by id: a re-run job or a retried delivery writes the same row again (with the newest
 * record), never a second one. A tombstone stays a tombstone, and a legal hold is not touched.
 */
export async function upsertRows(db: Kysely<LibrarySchema>, rows: readonly NewImageRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db.insertInto('images').values([...rows])
    .onConflict((oc) => oc.column('id').doUpdateSet((eb) => ({
      asset_key: eb.ref('excluded.asset_key'),
      thumb_key: eb.fn.coalesce(eb.ref('excluded.thumb_key'), eb.ref('images.thumb_key')),
      platform: eb.ref('excluded.platform'),
      workspace: eb.ref('excluded.workspace'),
      channel: eb.ref('excluded.channel'),
      channel_kind: eb.ref('excluded.channel_kind'),
      user_id: eb.ref('excluded.user_id'),
      user_name: eb.ref('excluded.user_name'),
      prompt: eb.ref('excluded.prompt'),
      template_id: eb.ref('excluded.template_id'),
      template_version: eb.ref('excluded.template_version'),
      model_id: eb.ref('excluded.model_id'),
      model_name: eb.ref('excluded.model_name'),
      model_version: eb.ref('excluded.model_version'),
      model_demo: eb.ref('excluded.model_demo'),
      seed: eb.ref('excluded.seed'),
      width: eb.ref('excluded.width'),
      height: eb.ref('excluded.height'),
      steps: eb.ref('excluded.steps'),
      queue_wait_ms: eb.ref('excluded.queue_wait_ms'),
      generation_ms: eb.ref('excluded.generation_ms'),
      step_ms: eb.ref('excluded.step_ms'),
      created_at: eb.ref('excluded.created_at'),
      updated_at: eb.ref('excluded.updated_at'),
      provenance: eb.ref('excluded.provenance'),
    })).where('images.deleted_at', 'is', null))
    .execute();
}

const iso = (d: Date | string): string => (d instanceof Date ? d : new Date(d)).toISOString();

export function recordFromRow(r: RecordRow): ImageRecord {
  return {
    id: r.id,
    jobId: r.job_id,
    index: r.image_index,
    assetKey: r.asset_key,
    thumbnailKey: r.thumb_key,
    platform: r.platform,
    workspace: r.workspace,
    channel: r.channel,
    channelKind: channelKindOf(r.channel_kind),
    user: r.user_id,
    userName: r.user_name,
    prompt: r.prompt,
    template: r.template_id ? { id: r.template_id, version: r.template_version } : null,
    model: { id: r.model_id, name: r.model_name, version: r.model_version, demo: r.model_demo },
    seed: Number(r.seed),
    width: r.width,
    height: r.height,
    steps: r.steps,
    timings: { queueWaitMs: r.queue_wait_ms, generationMs: r.generation_ms, stepMs: r.step_ms },
    createdAt: iso(r.created_at),
    legalHold: r.legal_hold,
    deleted: r.deleted_at ? { at: iso(r.deleted_at), by: r.deleted_by ?? '', reason: r.delete_reason ?? '' } : null,
  };
}
