/**
 * The image index on both of its databases: PGlite in a temporary directory, and a fresh database on the
 * run's PostgreSQL server (test/setup/global-postgres.ts). Library tests run once per backend.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { sql, type Kysely } from 'kysely';
import { LocalAssetStore } from '../../src/assets/local-store.js';
import { createLogger } from '../../src/infra/logger.js';
import { createRedis } from '../../src/infra/redis.js';
import { Keys } from '../../src/jobs/keys.js';
import { openLibraryDb, type DbKind, type LibraryDb } from '../../src/library/db.js';
import { ImageLibrary } from '../../src/library/library.js';
import type { LibrarySchema } from '../../src/library/schema.js';
import { AuditLog } from '../../src/quota/audit.js';
import { REDIS_URL } from './harness.js';
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

/** Where a backend keeps its data: a temporary directory, and for PostgreSQL a fresh database. */
async function place(kind: DbKind): Promise<{ dataDir: string; url: string | undefined; remove(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), `zimage-lib-${kind}-`));
  const database = kind === 'postgres' ? await createTestDatabase() : undefined;
  return {
    dataDir, url: database?.url,
    remove: async () => {
      await database?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Empty every table of the index (between tests of one file). */
async function clearTables(db: Kysely<LibrarySchema>): Promise<void> {
  for (const table of ['images', 'person_holds']) await sql`delete from ${sql.table(table)}`.execute(db);
}

export async function openBackend(kind: DbKind): Promise<TestBackend> {
  const p = await place(kind);
  const db = await openLibraryDb({ dataDir: p.dataDir, ...(p.url ? { url: p.url } : {}) });
  return {
    kind, db, url: p.url, dataDir: p.dataDir,
    // Before the first migration there are no tables to empty.
    clear: () => clearTables(db.kysely).catch(() => undefined),
    close: async () => {
      await db.close();
      await p.remove();
    },
  };
}

export interface TestLibrary {
  library: ImageLibrary;
  assets: LocalAssetStore;
  audit: AuditLog;
  redis: Redis;
  keys: Keys;
  /** Empty every table. */
  clear(): Promise<void>;
  close(): Promise<void>;
}

/** The library as the bot has it: real audit log (Redis), local asset store, the backend's database. */
export async function openTestLibrary(kind: DbKind): Promise<TestLibrary> {
  const p = await place(kind);
  const redis = createRedis(REDIS_URL(), 'library-test');
  const keys = new Keys(`tlib${randomBytes(4).toString('hex')}`);
  const audit = new AuditLog(redis, keys);
  const assets = new LocalAssetStore(join(p.dataDir, 'outputs'));
  const library = new ImageLibrary({ dataDir: p.dataDir, assets, audit, log: createLogger('silent'), ...(p.url ? { url: p.url } : {}) });
  await library.open();
  return {
    library, assets, audit, redis, keys,
    // The handle of the moment: a test may have closed and opened the library again.
    clear: () => clearTables(library.kysely),
    close: async () => {
      await library.close();
      await redis.quit();
      await p.remove();
    },
  };
}
