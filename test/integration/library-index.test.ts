/**
 * The image index on PGlite and on PostgreSQL: migrations from empty and from the previous version,
 * idempotent writes when a job re-runs, keyset pages newest first, filters, and prompt search in Chinese
 * and English.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { provenanceRecord } from '../../src/assets/provenance.js';
import { isZimageError } from '../../src/errors.js';
import { openLibraryDb } from '../../src/library/db.js';
import { lockDataDir } from '../../src/library/dir-lock.js';
import { createLogger } from '../../src/infra/logger.js';
import { rowFromProvenance, rowsFromStored, upsertRows } from '../../src/library/image-row.js';
import { MIGRATIONS, migrate } from '../../src/library/migrations.js';
import { countImages, getImage, listImages } from '../../src/library/queries.js';
import { CJK_TERM, MAX_SEARCH_CHARS, searchTerms, searchWhere } from '../../src/library/search.js';
import type { Viewer } from '../../src/library/visibility.js';
import { BACKENDS, openBackend, type TestBackend } from '../helpers/library-backends.js';
import { storedImage } from '../helpers/library-fixtures.js';

const alice: Viewer = { platform: 'slack', workspace: 'T1', user: 'U1', manager: false, audit: false };

describe.each(BACKENDS)('image index on %s', (kind) => {
  let b: TestBackend;
  beforeAll(async () => {
    b = await openBackend(kind);
    expect(await migrate(b.db.kysely as never)).toEqual(Object.keys(MIGRATIONS).sort());
  });
  afterAll(async () => { await b?.close(); });
  beforeEach(async () => { await b.clear(); });

  const write = (...images: ReturnType<typeof storedImage>[]) => upsertRows(b.db.kysely, rowsFromStored(images).rows);

  it('migrating again does nothing; the schema has every table', async () => {
    expect(await migrate(b.db.kysely as never)).toEqual([]);
    const tables = await sql<{ table_name: string }>`select table_name from information_schema.tables where table_schema = 'public' order by 1`.execute(b.db.kysely);
    expect(tables.rows.map((r) => r.table_name)).toEqual(expect.arrayContaining(['images', 'person_holds', 'library_migration']));
  });

  it('a re-run job writes the same row again, with the newest record, never a second one', async () => {
    const first = storedImage({ jobId: 'jrerun', generationMs: 900 });
    await write(first);
    const again = { ...first, metadata: { ...first.metadata, generationMs: 700, createdAt: new Date(Date.parse(first.metadata.createdAt) + 5000).toISOString() } };
    await write(again);
    await write(again);
    expect(await countImages(b.db.kysely, alice)).toBe(1);
    const got = await getImage(b.db.kysely, alice, 'jrerun-0');
    expect(got).toMatchObject({
      jobId: 'jrerun', index: 0, assetKey: first.key, thumbnailKey: first.metadata.thumbnailKey, prompt: 'a ginger cat on a windowsill',
      seed: 7, width: 512, height: 512, steps: 8, channelKind: 'public', user: 'U1', userName: 'alice', template: null,
      model: { id: 'demo', name: 'demo model', version: '1', demo: true }, timings: { queueWaitMs: 1200, generationMs: 700, stepMs: 95.5 },
      createdAt: again.metadata.createdAt, legalHold: false, deleted: null,
    });
  });

  it('timings too long for their integer columns are written at the columns\' bound, not refused', async () => {
    const INT32_MAX = 2_147_483_647;
    // A job that waited 30 days (queue_wait_ms is a 32-bit integer: at most about 24.8 days).
    await write(storedImage({ jobId: 'jlong', queueWaitMs: 30 * 86_400_000, generationMs: 1e12, stepMs: 1e40 }));
    expect((await getImage(b.db.kysely, alice, 'jlong-0')).timings).toEqual({ queueWaitMs: INT32_MAX, generationMs: INT32_MAX, stepMs: expect.closeTo(INT32_MAX, -3) }); // step_ms is a real: ±1
    // A sidecar's own timings (clocks that disagree) are bounded below too.
    const neg = storedImage({ jobId: 'jneg' });
    const row = rowFromProvenance({ ...provenanceRecord(neg.metadata, neg.key), timings: { queueWaitMs: -5, generationMs: 800.4, stepMs: -1 } });
    expect(row).toMatchObject({ queue_wait_ms: 0, generation_ms: 800, step_ms: 0 });
  });

  it('keeps seeds up to 2^32 - 1 exactly', async () => {
    await write(storedImage({ jobId: 'jseed', seed: 4_294_967_295 }));
    expect((await getImage(b.db.kysely, alice, 'jseed-0')).seed).toBe(4_294_967_295);
  });

  it('pages newest first with a cursor, stable while new images arrive', async () => {
    const made = Array.from({ length: 7 }, (_, i) => storedImage({ jobId: `jpage${i}`, at: new Date(Date.UTC(2026, 10, 2, 10, i)).toISOString() }));
    await write(...made);
    const p1 = await listImages(b.db.kysely, alice, {}, { limit: 3 });
    expect(p1.images.map((i) => i.jobId)).toEqual(['jpage6', 'jpage5', 'jpage4']);
    await write(storedImage({ jobId: 'jpage-new', at: new Date(Date.UTC(2026, 10, 2, 11)).toISOString() }));
    const p2 = await listImages(b.db.kysely, alice, {}, { limit: 3, cursor: p1.next! });
    expect(p2.images.map((i) => i.jobId)).toEqual(['jpage3', 'jpage2', 'jpage1']);
    const p3 = await listImages(b.db.kysely, alice, {}, { limit: 3, cursor: p2.next! });
    expect(p3).toEqual({ images: [expect.objectContaining({ jobId: 'jpage0' })], next: null });
    // Two images of one job made in the same millisecond are both listed, in a fixed order.
    await write(storedImage({ jobId: 'jtwin', index: 0, at: '2026-11-03T00:00:00.000Z' }), storedImage({ jobId: 'jtwin', index: 1, at: '2026-11-03T00:00:00.000Z' }));
    const twins = await listImages(b.db.kysely, alice, {}, { limit: 1 });
    const rest = await listImages(b.db.kysely, alice, {}, { limit: 1, cursor: twins.next! });
    expect([twins.images[0]!.id, rest.images[0]!.id]).toEqual(['jtwin-1', 'jtwin-0']);
    await expect(listImages(b.db.kysely, alice, {}, { cursor: 'garbage' })).rejects.toSatisfy((e) => isZimageError(e, 'LIBRARY_BAD_CURSOR'));
  });

  it('filters by person, channel, template, model and date range; unknown values find nothing', async () => {
    await write(
      storedImage({ jobId: 'jf1', user: 'U1', channel: 'C1', at: '2026-11-05T08:00:00Z' }),
      storedImage({ jobId: 'jf2', user: 'U2', userName: 'bob', channel: 'C2', template: { id: 'poster', version: 'abc' }, at: '2026-11-06T08:00:00Z' }),
      storedImage({ jobId: 'jf3', user: 'U2', channel: 'C1', model: { id: 'z-image-turbo', name: 'Z-Image-Turbo', demo: false }, at: '2026-11-07T08:00:00Z' }),
    );
    const ids = async (f: Parameters<typeof listImages>[2]) => (await listImages(b.db.kysely, alice, f)).images.map((i) => i.jobId);
    expect(await ids({ person: 'U2' })).toEqual(['jf3', 'jf2']);
    expect(await ids({ channel: 'C1' })).toEqual(['jf3', 'jf1']);
    expect(await ids({ template: 'poster' })).toEqual(['jf2']);
    expect(await ids({ model: 'z-image-turbo' })).toEqual(['jf3']);
    expect(await ids({ from: new Date('2026-11-06T00:00:00Z'), to: new Date('2026-11-07T00:00:00Z') })).toEqual(['jf2']);
    expect(await ids({ person: 'U2', channel: 'C1' })).toEqual(['jf3']);
    expect(await ids({ person: 'nobody-by-this-id' })).toEqual([]);
    expect(await ids({ channel: 'C404', template: 'no-such-template' })).toEqual([]);
  });

  it('search finds Chinese and English words anywhere in the prompt, in any case, all words at once', async () => {
    await write(
      storedImage({ jobId: 'js1', prompt: '蓝色科技感手机海报' }),
      storedImage({ jobId: 'js2', prompt: 'summer sale poster, bright orange' }),
      storedImage({ jobId: 'js3', prompt: 'Winter Sale POSTER with snow' }),
      storedImage({ jobId: 'js4', prompt: 'a ginger cat 100% real_photo' }),
    );
    const ids = async (search: string) => (await listImages(b.db.kysely, alice, { search })).images.map((i) => i.jobId).sort();
    expect(await ids('海报')).toEqual(['js1']);
    expect(await ids('科技感')).toEqual(['js1']);
    expect(await ids('poster')).toEqual(['js2', 'js3']);
    expect(await ids('sale summer')).toEqual(['js2']);
    expect(await ids('ＰＯＳＴＥＲ')).toEqual(['js2', 'js3']); // full-width letters
    expect(await ids('100%')).toEqual(['js4']);
    expect(await ids('%')).toEqual(['js4']); // a wildcard is only itself
    expect(await ids('l_p')).toEqual(['js4']);
    expect(await ids('   ')).toEqual(['js1', 'js2', 'js3', 'js4']);
    expect(await ids('花园')).toEqual([]);
    expect(await ids('手机')).toEqual(['js1']);
    expect(await ids('报')).toEqual(['js1']);
    expect(await ids('机海')).toEqual(['js1']); // any two characters in a row, not only words
    expect(await ids('海报 poster')).toEqual([]);
    // Any size and script: cut at the documented length, never an error.
    expect(await ids(`poster ${'x'.repeat(MAX_SEARCH_CHARS * 50)}`)).toEqual([]);
    expect(await ids(`poster${' '.repeat(MAX_SEARCH_CHARS)}${'x'.repeat(10)}`)).toEqual(['js2', 'js3']);
    expect(await ids('\u0000\u202e poster \ud800')).toEqual(['js2', 'js3']);
  });

  it('the prompt search can use its indexes: trigrams, and CJK pieces for one- and two-character terms', async () => {
    await sql`set enable_seqscan = off`.execute(b.db.kysely);
    try {
      const plan = async (search: string): Promise<string> => {
        // The search condition alone: on a small table the planner rightly prefers the workspace's index.
        const q = b.db.kysely.selectFrom('images').select('images.id').where(searchWhere(searchTerms(search))).compile();
        const rows = await sql<{ 'QUERY PLAN': string }>`explain ${sql.raw(q.sql.replace(/\$(\d+)/g, (_, n: string) => `'${String(q.parameters[Number(n) - 1]).replace(/'/g, "''")}'`))}`.execute(b.db.kysely);
        return rows.rows.map((r) => r['QUERY PLAN']).join('\n');
      };
      expect(await plan('poster')).toContain('images_prompt_trgm');
      expect(await plan('科技感')).toContain('images_prompt_trgm');
      expect(await plan('海报')).toContain('images_cjk_grams');
    } finally {
      await sql`set enable_seqscan = on`.execute(b.db.kysely);
    }
  });

  it('the database cuts prompts into CJK pieces by the same rule as the search terms', async () => {
    for (const text of ['蓝色科技感手机海報', 'ひらがなとカタカナ', '한국어 포스터', 'Mixed 中文 text 〇 ｶﾀｶﾅ 😀', 'no cjk at all', '']) {
      const expected = new Set<string>();
      const lower = [...text.toLowerCase()];
      for (let i = 0; i < lower.length; i++) for (const n of [1, 2]) { const g = lower.slice(i, i + n).join(''); if ([...g].length === n && CJK_TERM.test(g)) expected.add(g); }
      const { rows } = await sql<{ g: string[] }>`select zimage_cjk_grams(${text}) as g`.execute(b.db.kysely);
      expect({ text, grams: [...rows[0]!.g].sort() }).toEqual({ text, grams: [...expected].sort() });
    }
  });
});

describe.each(BACKENDS)('migrations on %s', (kind) => {
  const names = Object.keys(MIGRATIONS).sort();
  it.each(names.slice(0, -1))('from %s: rows written then keep their data, gain the new columns and are found by search', async (version) => {
    const b = await openBackend(kind);
    try {
      expect(await migrate(b.db.kysely as never, version)).toEqual(names.slice(0, names.indexOf(version) + 1));
      // A row as that version wrote it: only the columns it had.
      const columns = await sql<{ column_name: string }>`select column_name from information_schema.columns where table_name = 'images' and is_generated = 'NEVER'`.execute(b.db.kysely);
      const had = new Set(columns.rows.map((c) => c.column_name));
      const [row] = rowsFromStored([storedImage({ jobId: 'jold', prompt: '一张旧的海报 an old image' })]).rows;
      await b.db.kysely.insertInto('images').values(Object.fromEntries(Object.entries(row!).filter(([k]) => had.has(k))) as never).execute();
      expect(await migrate(b.db.kysely as never)).toEqual(names.slice(names.indexOf(version) + 1));
      expect(await getImage(b.db.kysely, alice, 'jold-0')).toMatchObject({ prompt: '一张旧的海报 an old image', legalHold: false, deleted: null });
      for (const search of ['海报', '旧', 'old image']) expect((await listImages(b.db.kysely, alice, { search })).images.map((i) => i.id)).toEqual(['jold-0']);
    } finally {
      await b.close();
    }
  });
});

describe('opening the database', () => {
  it('the embedded database left locked by a process killed with -9 opens at once on the next start', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'zimage-lock-'));
    try {
      const code = `import(${JSON.stringify(resolve('dist/src/library/db.js'))}).then(async (m) => { await m.openLibraryDb({ dataDir: ${JSON.stringify(dataDir)} }); process.stdout.write('open\\n'); setInterval(() => {}, 1000); });`;
      const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((ok, fail) => {
        child.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('open')) ok(); });
        child.once('exit', (c) => fail(new Error(`child exited ${c}`)));
      });
      expect(existsSync(join(dataDir, 'db.lock'))).toBe(true);
      // While it runs, the directory is refused.
      await expect(openLibraryDb({ dataDir })).rejects.toSatisfy((e) => isZimageError(e, 'DATABASE_LOCKED'));
      child.kill('SIGKILL');
      await once(child, 'exit');
      const started = Date.now();
      const db = await openLibraryDb({ dataDir });
      expect(Date.now() - started).toBeLessThan(15_000); // well before the lock would count as stale (30 s)
      await db.close();
      expect(existsSync(join(dataDir, 'db.lock'))).toBe(false);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('a lock left without the name of its holder (a process killed between the two) is taken over; a fresh one is not', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'zimage-lock-'));
    try {
      const lockDir = join(dataDir, 'db.lock');
      mkdirSync(lockDir);
      // Just made: its maker is about to write its name into it.
      await expect(openLibraryDb({ dataDir })).rejects.toSatisfy((e) => isZimageError(e, 'DATABASE_LOCKED'));
      const old = new Date(Date.now() - 10_000);
      utimesSync(lockDir, old, old);
      const db = await openLibraryDb({ dataDir });
      await db.close();
      expect(existsSync(lockDir)).toBe(false);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('a lock held across its refreshes is released cleanly (nothing else touches the lock directory)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'zimage-lock-'));
    try {
      const lines: string[] = [];
      const log = createLogger('warn', {}, { destination: { write: (l: string) => { lines.push(l); } } });
      const release = await lockDataDir(join(dataDir, 'db'), log, { refreshMs: 1000 });
      // Two refreshes of the lock (each one moves its directory's modification time), or a complaint about it.
      const mtimes = new Set<number>();
      const mtime = (): number => { try { return statSync(join(dataDir, 'db.lock')).mtimeMs; } catch { return 0; } };
      mtimes.add(mtime());
      await expect.poll(() => mtimes.add(mtime()).size > 2 || lines.length > 0, { timeout: 15_000, interval: 50 }).toBe(true);
      await release();
      expect(lines.filter((l) => /lock/.test(l))).toEqual([]);
      expect(existsSync(join(dataDir, 'db.lock'))).toBe(false);
      await (await lockDataDir(join(dataDir, 'db'), log))();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('an unreachable DATABASE_URL is reported with where it points, never with its password', async () => {
    const err = await openLibraryDb({ dataDir: '/nonexistent', url: 'postgres://app:pw-not-to-show@127.0.0.1:1/zimage' }).catch((e: unknown) => e);
    expect(isZimageError(err, 'DATABASE_UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toContain('127.0.0.1:1/zimage');
    expect((err as Error).message).not.toContain('pw-not-to-show');
  });
});
