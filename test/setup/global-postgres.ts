import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { startPrivatePostgres, type PrivatePostgres } from '../helpers/private-postgres.js';

/**
 * Tests use DATABASE_URL when set; otherwise a private PostgreSQL server for the whole run
 * (test/helpers/private-postgres.ts). Each test makes its own database (test/helpers/test-database.ts),
 * named with this run's prefix; on a server of the developer's those are dropped at the end.
 */
let server: PrivatePostgres | undefined;

export async function setup(): Promise<void> {
  process.env.ZIMAGE_TEST_DB_PREFIX = `zt_${randomBytes(3).toString('hex')}`;
  if (process.env.DATABASE_URL) { process.env.ZIMAGE_TEST_DATABASE_URL = process.env.DATABASE_URL; return; }
  server = await startPrivatePostgres();
  process.env.ZIMAGE_TEST_DATABASE_URL = server.url;
}

export async function teardown(): Promise<void> {
  if (server) { await server.stop(); return; }
  const url = process.env.ZIMAGE_TEST_DATABASE_URL;
  if (!url) return;
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    const { rows } = await client.query<{ datname: string }>('select datname from pg_database where datname like $1', [`${process.env.ZIMAGE_TEST_DB_PREFIX}\\_%`]);
    for (const { datname } of rows) await client.query(`drop database if exists "${datname}" with (force)`);
  } finally {
    await client.end().catch(() => undefined);
  }
}
