/**
 * The image index's tables as Kysely sees them (the SQL is in migrations.ts). Column names are the SQL
 * ones; src/library/image-row.ts maps rows to the API's ImageRecord. `bigint` columns are read as numbers
 * by both drivers (db.ts), `timestamptz` as Date, `jsonb` as the parsed value.
 */
import type { ColumnType, Generated } from 'kysely';
import type { ChannelKind } from '../jobs/types.js';

type Timestamp = ColumnType<Date, Date | string, Date | string>;

export interface ImagesTable {
  /** `<jobId>-<index>`: the same for every run of a job, so a re-run writes the same row. */
  id: string;
  job_id: string;
  image_index: number;
  asset_key: string;
  thumb_key: string | null;
  platform: string;
  workspace: string;
  channel: string;
  channel_kind: ChannelKind;
  user_id: string;
  user_name: string | null;
  prompt: string;
  template_id: string | null;
  template_version: string | null;
  model_id: string;
  model_name: string;
  model_version: string | null;
  model_demo: boolean;
  seed: number;
  width: number;
  height: number;
  steps: number;
  queue_wait_ms: number;
  generation_ms: number;
  step_ms: number | null;
  /** When the image was made (the provenance timestamp). */
  created_at: Timestamp;
  indexed_at: ColumnType<Date, Date | string | undefined, Date | string>;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
  /** The full provenance record (the sidecar) as it was written. */
  provenance: ColumnType<unknown, string, string>;
  // 0002_compliance
  legal_hold: Generated<boolean>;
  held_by: string | null;
  held_at: Timestamp | null;
  deleted_at: Timestamp | null;
  deleted_by: string | null;
  /** `owner` (the person deleted it) or `retention` (ASSET_RETENTION_DAYS). */
  delete_reason: string | null;
}

/** A legal hold on everything one person made in a workspace. */
export interface PersonHoldsTable {
  platform: string;
  workspace: string;
  user_id: string;
  held_by: string;
  held_at: Timestamp;
  reason: string;
}

export interface LibrarySchema {
  images: ImagesTable;
  person_holds: PersonHoldsTable;
}
