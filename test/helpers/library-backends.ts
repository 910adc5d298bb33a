/**
 * The image index on both of its databases: PGlite in a temporary directory, and a fresh database on the
 * run's PostgreSQL server (test/setup/global-postgres.ts). Library tests run once per backend.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { openLibraryDb, type DbKind, type LibraryDb } from '../../src/library/db.js';
import { createTestDatabase } from './test-database.js';

export const BACKENDS: readonly DbKind[] = ['pglite', 'postgres'];

export interface TestBackend {
  kind: DbKind;
  db: LibraryDb;
  /** DATABASE_URL for postgres, undefined for PGlite. */
  url: string | undefined;
  dataDir: string;
  /** Empty every table (between tests of one file). */
  clear(): Promise<void>;
  close(): Promise<void>;
}

export async function openBackend(kind: DbKind): Promise<TestBackend> {
  const dataDir = mkdtempSync(join(tmpdir(), `zimage-lib-${kind}-`));
  const database = kind === 'postgres' ? await createTestDatabase() : undefined;
  const db = await openLibraryDb({ dataDir, ...(database ? { url: database.url } : {}) });
  return {
    kind, db, url: database?.url, dataDir,
    clear: async () => {
      for (const table of ['images', 'person_holds']) await sql`delete from ${sql.table(table)}`.execute(db.kysely).catch(() => undefined);
    },
    close: async () => {
      await db.close();
      await database?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
