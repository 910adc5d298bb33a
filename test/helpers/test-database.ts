/** A fresh PostgreSQL database per test, on the run's server (test/setup/global-postgres.ts). */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export function serverUrl(): string {
  const url = process.env.ZIMAGE_TEST_DATABASE_URL;
  if (!url) throw new Error('ZIMAGE_TEST_DATABASE_URL is not set (test/setup/global-postgres.ts)');
  return url;
}

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `${process.env.ZIMAGE_TEST_DB_PREFIX ?? 'zt'}_${randomBytes(5).toString('hex')}`;
  await admin((c) => c.query(`create database "${name}"`));
  const u = new URL(serverUrl());
  u.pathname = `/${name}`;
  return {
    url: u.toString(), name,
    drop: () => admin((c) => c.query(`drop database if exists "${name}" with (force)`)).then(() => undefined),
  };
}
