/**
 * The image index's schema, as versioned migrations that run the same SQL on PGlite and PostgreSQL
 * (Kysely's migrator: one table records what ran, a lock keeps two bots from migrating at once, each
 * migration runs in a transaction). Never edit a migration that shipped: add the next one.
 *
 * 0001_images      one row per image, the list and filter indexes, trigram search on the prompt (pg_trgm)
 * 0002_compliance  legal holds (per image, per person) and deletion tombstones
 * 0003_cjk_grams   the prompt's one- and two-character CJK pieces, indexed: a trigram index cannot serve a
 *                  search for a two-character word such as 海报 (it has no trigram), which would scan every row
 */
import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';

/** One statement per entry: PGlite runs queries one statement at a time. */
const step = (statements: string[]): Migration => ({
  async up(db: Kysely<unknown>): Promise<void> {
    for (const s of statements) await sql.raw(s).execute(db);
  },
});

export const MIGRATIONS: Readonly<Record<string, Migration>> = {
  '0001_images': step([
    `create table images (
      id text primary key,
      job_id text not null,
      image_index integer not null,
      asset_key text not null unique,
      thumb_key text,
      platform text not null,
      workspace text not null,
      channel text not null,
      channel_kind text not null check (channel_kind in ('public', 'private', 'dm', 'playground')),
      user_id text not null,
      user_name text,
      prompt text not null,
      template_id text,
      template_version text,
      model_id text not null,
      model_name text not null,
      model_version text,
      model_demo boolean not null,
      seed bigint not null,
      width integer not null,
      height integer not null,
      steps integer not null,
      queue_wait_ms integer not null,
      generation_ms integer not null,
      step_ms real,
      created_at timestamptz not null,
      indexed_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      provenance jsonb not null
    )`,
    // Newest first within a workspace, and the same per person and per channel (keyset pagination).
    'create index images_workspace_time on images (platform, workspace, created_at desc, id desc)',
    'create index images_person_time on images (platform, workspace, user_id, created_at desc, id desc)',
    'create index images_channel_time on images (platform, workspace, channel, created_at desc, id desc)',
    'create index images_job on images (job_id)',
    // pg_trgm is a trusted extension (PostgreSQL ≥ 13): a database owner may create it.
    'create extension if not exists pg_trgm',
    'create index images_prompt_trgm on images using gin (prompt gin_trgm_ops)',
  ]),
  '0002_compliance': step([
    'alter table images add column legal_hold boolean not null default false',
    'alter table images add column held_by text',
    'alter table images add column held_at timestamptz',
    'alter table images add column deleted_at timestamptz',
    'alter table images add column deleted_by text',
    'alter table images add column delete_reason text',
    `create table person_holds (
      platform text not null,
      workspace text not null,
      user_id text not null,
      held_by text not null,
      held_at timestamptz not null,
      reason text not null,
      primary key (platform, workspace, user_id)
    )`,
    'create index images_held on images (asset_key) where legal_hold',
  ]),
  '0003_cjk_grams': step([
    // Every distinct 1- and 2-character run of CJK characters (Han, kana, Hangul) in the lower-cased prompt.
    // The ranges are the same as CJK_TERM in search.ts (a test checks that both agree).
    `create function zimage_cjk_grams(prompt text) returns text[] language sql immutable parallel safe as $$
      select coalesce(array_agg(distinct g), '{}') from (
        select substr(lower(prompt), i, n) as g, n
        from generate_series(1, char_length(prompt)) as i, (values (1), (2)) as lengths(n)
      ) pieces
      where char_length(g) = n and g ~ '^[\\u3040-\\u30ff\\u3400-\\u4dbf\\u4e00-\\u9fff\\uf900-\\ufaff\\uac00-\\ud7af]+$'
    $$`,
    // Stored and generated: computed for the rows already there, and by the database for every new one.
    'alter table images add column cjk_grams text[] generated always as (zimage_cjk_grams(prompt)) stored',
    'create index images_cjk_grams on images using gin (cjk_grams)',
  ]),
};

export const LATEST_MIGRATION = Object.keys(MIGRATIONS).sort().at(-1)!;

const provider: MigrationProvider = { getMigrations: async () => ({ ...MIGRATIONS }) };

function migrator(db: Kysely<unknown>): Migrator {
  return new Migrator({ db, provider, migrationTableName: 'library_migration', migrationLockTableName: 'library_migration_lock' });
}

/** Bring the schema to `target` (default: the latest); returns the migrations that ran. */
export async function migrate(db: Kysely<unknown>, target: string = LATEST_MIGRATION): Promise<string[]> {
  const { error, results } = await migrator(db).migrateTo(target);
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new Error(`image index migration${failed ? ` ${failed}` : ''} failed: ${(error as Error).message ?? String(error)}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
