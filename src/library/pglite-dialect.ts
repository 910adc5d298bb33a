/**
 * A Kysely dialect for PGlite (PostgreSQL compiled to WebAssembly, in-process): PostgreSQL's own adapter,
 * query compiler and introspector over one PGlite instance. PGlite has a single connection, so the driver
 * hands it out in turn — a transaction holds it from BEGIN to COMMIT and every other query waits.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { PGlite } from '@electric-sql/pglite';
import {
  CompiledQuery, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler,
  type DatabaseConnection, type Dialect, type Driver, type Kysely, type QueryResult,
} from 'kysely';

const COUNTED = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE']);
const CLOSE_WAIT_MS = 5000;

class PGliteConnection implements DatabaseConnection {
  constructor(private readonly db: PGlite) {}

  async executeQuery<R>(q: CompiledQuery): Promise<QueryResult<R>> {
    const res = await this.db.query<R>(q.sql, [...q.parameters]);
    const command = (res as { command?: string }).command;
    return {
      rows: res.rows,
      ...(command && COUNTED.has(command) && res.affectedRows !== undefined ? { numAffectedRows: BigInt(res.affectedRows) } : {}),
    };
  }

  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('PGlite has no server-side cursors here: read large results in keyset pages');
  }
}

class PGliteDriver implements Driver {
  private readonly connection: PGliteConnection;
  /** Resolves when the connection is free; each holder chains the next turn. */
  private turn: Promise<void> = Promise.resolve();
  private releaseHolder: (() => void) | undefined;

  constructor(private readonly db: PGlite) {
    this.connection = new PGliteConnection(db);
  }

  async init(): Promise<void> {
    await this.db.waitReady;
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const previous = this.turn;
    let release!: () => void;
    this.turn = new Promise<void>((ok) => { release = ok; });
    await previous;
    this.releaseHolder = release;
    return this.connection;
  }

  async releaseConnection(): Promise<void> {
    const release = this.releaseHolder;
    this.releaseHolder = undefined;
    release?.();
  }

  async beginTransaction(c: DatabaseConnection): Promise<void> {
    await c.executeQuery(CompiledQuery.raw('begin'));
  }

  async commitTransaction(c: DatabaseConnection): Promise<void> {
    await c.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(c: DatabaseConnection): Promise<void> {
    await c.executeQuery(CompiledQuery.raw('rollback'));
  }

  /** Waits (a bounded time) for the query in flight, then closes PGlite, which writes its files. */
  async destroy(): Promise<void> {
    await Promise.race([this.turn, sleep(CLOSE_WAIT_MS, undefined, { ref: false })]);
    if (!this.db.closed) await this.db.close();
  }
}

export class PGliteDialect implements Dialect {
  constructor(private readonly db: PGlite) {}
  createAdapter(): PostgresAdapter { return new PostgresAdapter(); }
  createDriver(): Driver { return new PGliteDriver(this.db); }
  createQueryCompiler(): PostgresQueryCompiler { return new PostgresQueryCompiler(); }
  createIntrospector(db: Kysely<unknown>): PostgresIntrospector { return new PostgresIntrospector(db); }
}
