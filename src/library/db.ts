/**
 * The image index's database: PostgreSQL when DATABASE_URL is set (every bot replica shares it), else
 * PGlite — PostgreSQL in WebAssembly, in this process — with its files under DATA_DIR/db. One SQL dialect
 * for both. PGlite's directory is locked for one process (dir-lock.ts).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { ZimageError } from '../errors.js';
import type { Logger } from '../infra/logger.js';
import { lockDataDir } from './dir-lock.js';
import { PGliteDialect } from './pglite-dialect.js';
import type { LibrarySchema } from './schema.js';

export type DbKind = 'pglite' | 'postgres';

export interface LibraryDb {
  readonly kysely: Kysely<LibrarySchema>;
  readonly kind: DbKind;
  close(): Promise<void>;
}

export interface OpenDbOptions {
  /** PostgreSQL URL (DATABASE_URL); unset → PGlite under `dataDir/db`. */
  url?: string;
  dataDir: string;
  log?: Logger;
  /** PostgreSQL connections per process (default 10). */
  poolSize?: number;
}

/**
 * PGlite's buffer cache. PostgreSQL's default (128 MB) more than doubles the process's memory for an index
 * that is mostly read through the operating system's page cache anyway; 32 MB holds the hot pages of
 * 100 000 images (docs/BENCHMARKS.md).
 */
const PGLITE_CONF = ['shared_buffers = 32MB', 'work_mem = 8MB'];
const INT8_OID = 20;

/** Where a DATABASE_URL points, without its user name or password (for messages). */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname || 'localhost'}:${u.port || '5432'}${u.pathname || '/'}`;
  } catch {
    return '(an unreadable URL)';
  }
}

export async function openLibraryDb(o: OpenDbOptions): Promise<LibraryDb> {
  return o.url ? openPostgres(o.url, o) : openPGlite(join(o.dataDir, 'db'), o.log);
}

async function openPostgres(url: string, o: OpenDbOptions): Promise<LibraryDb> {
  const pool = new pg.Pool({
    connectionString: url, max: o.poolSize ?? 10, idleTimeoutMillis: 30_000, connectionTimeoutMillis: 10_000,
    // Seeds and counts are int8: numbers in this code base (seeds < 2^32, counts far below 2^53).
    types: { getTypeParser: ((oid: number, format?: string) => (oid === INT8_OID ? Number : pg.types.getTypeParser(oid, format as 'text'))) as typeof pg.types.getTypeParser },
  });
  // An idle connection that breaks (server restart) must not take the process down; the next query reconnects.
  pool.on('error', (err) => o.log?.warn({ err }, 'image index: a PostgreSQL connection failed; it will reconnect'));
  try {
    const client = await pool.connect();
    client.release();
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new ZimageError('DATABASE_UNAVAILABLE',
      `Could not connect to the PostgreSQL server of DATABASE_URL (${describeUrl(url)}): ${(err as Error).message}. Check that it runs and that the URL's user, password and database are right.`);
  }
  const kysely = new Kysely<LibrarySchema>({ dialect: new PostgresDialect({ pool }) });
  return { kysely, kind: 'postgres', close: () => kysely.destroy() };
}

async function openPGlite(dir: string, log: Logger | undefined): Promise<LibraryDb> {
  mkdirSync(dir, { recursive: true });
  const release = await lockDataDir(dir, log);
  try {
    const db = await PGlite.create({ dataDir: dir, extensions: { pg_trgm }, postgresqlconf: PGLITE_CONF });
    const kysely = new Kysely<LibrarySchema>({ dialect: new PGliteDialect(db) });
    return {
      kysely, kind: 'pglite',
      close: async () => {
        try { await kysely.destroy(); } finally { await release().catch(() => undefined); }
      },
    };
  } catch (err) {
    await release().catch(() => undefined);
    throw err;
  }
}
