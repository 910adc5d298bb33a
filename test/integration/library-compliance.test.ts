/**
 * The library's rules and compliance operations on PGlite and PostgreSQL, with the real audit log (Redis)
 * and a real asset store: the visibility table through every query, legal holds against the retention
 * job, deleting one's own image (tombstone + audit entry), the streamed export, and rows that wait in
 * Redis while the database is away.
 */
import { parse as parseCsv } from 'csv-parse/sync';
import type { KyselyPlugin } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sidecarKey, thumbnailKey } from '../../src/assets/asset-store.js';
import { provenanceRecord } from '../../src/assets/provenance.js';
import { AssetRetention } from '../../src/assets/retention.js';
import { isZimageError } from '../../src/errors.js';
import { createLogger } from '../../src/infra/logger.js';
import type { StoredImage } from '../../src/jobs/types.js';
import { EXPORT_COLUMNS, exportImages } from '../../src/library/export.js';
import { rowsFromStored, upsertRows } from '../../src/library/image-row.js';
import { IndexWriter } from '../../src/library/index-writer.js';
import type { Viewer } from '../../src/library/visibility.js';
import { BACKENDS, openTestLibrary, type TestLibrary } from '../helpers/library-backends.js';
import { storedImage } from '../helpers/library-fixtures.js';
import { IMAGES, TABLE, VIEWERS } from '../helpers/visibility-table.js';

const log = createLogger('silent');
const member: Viewer = { platform: 'slack', workspace: 'T1', user: 'U1', manager: false, audit: false };
const auditor: Viewer = { ...member, user: 'UAUDIT', audit: true };

const notFound = (e: unknown): boolean => isZimageError(e, 'IMAGE_NOT_FOUND');
const code = async (p: Promise<unknown>): Promise<string> => p.then(() => 'ok', (e: unknown) => (isZimageError(e) ? e.code : String(e)));

describe.each(BACKENDS)('library compliance on %s', (kind) => {
  let t: TestLibrary;
  beforeAll(async () => { t = await openTestLibrary(kind); });
  afterAll(async () => { await t?.close(); });
  beforeEach(async () => { await t.clear(); });

  /** Store the files (image, preview, sidecar) as the worker does, and index the rows as the bot does. */
  const store = async (...images: StoredImage[]): Promise<void> => {
    for (const i of images) {
      await t.assets.putFile(thumbnailKey(i.key), Buffer.from('webp'));
      await t.assets.put(i.key, Buffer.from('png'), provenanceRecord(i.metadata, i.key));
    }
    await t.library.record(images);
  };

  it('the visibility table holds for a list, a search, a direct fetch and a file URL alike', async () => {
    const byName = new Map<string, StoredImage>();
    for (const [i, [name, facts]] of Object.entries(IMAGES).entries()) {
      const image = storedImage({ jobId: `jvis${i}`, prompt: `visibility check ${name}`, platform: facts.platform, workspace: facts.workspace, user: facts.user, channelKind: facts.channelKind });
      byName.set(name, image);
      await store(image);
      if (facts.deleted) await t.library.kysely.updateTable('images').set({ deleted_at: new Date(), deleted_by: facts.user, delete_reason: 'owner' }).where('id', '=', `jvis${i}-0`).execute();
    }
    for (const [role, viewer] of Object.entries(VIEWERS) as Array<[keyof typeof VIEWERS, Viewer]>) {
      const column = ['member', 'manager', 'audit'].indexOf(role);
      const expected = Object.entries(TABLE).filter(([, row]) => row[column]).map(([name]) => byName.get(name)!.metadata.jobId).sort();
      const listed = (await t.library.list(viewer)).images.map((i) => i.jobId).sort();
      const searched = (await t.library.list(viewer, { search: 'visibility check' })).images.map((i) => i.jobId).sort();
      expect({ role, listed }).toEqual({ role, listed: expected });
      expect({ role, searched }).toEqual({ role, searched: expected });
      expect(await t.library.count(viewer)).toBe(expected.length);
      for (const [name, image] of byName) {
        const visible = TABLE[name]![column]!;
        const id = `${image.metadata.jobId}-0`;
        // Not visible is exactly "not found": the same code as an image that never existed.
        expect({ role, name, get: await code(t.library.get(viewer, id)) }).toEqual({ role, name, get: visible ? 'ok' : 'IMAGE_NOT_FOUND' });
        expect({ role, name, file: await code(t.library.ofAsset(viewer, image.key)) }).toEqual({ role, name, file: visible ? 'ok' : 'IMAGE_NOT_FOUND' });
        expect({ role, name, preview: await code(t.library.ofAsset(viewer, thumbnailKey(image.key))) }).toEqual({ role, name, preview: visible ? 'ok' : 'IMAGE_NOT_FOUND' });
      }
      expect(await code(t.library.get(viewer, 'jnever-0'))).toBe('IMAGE_NOT_FOUND');
    }
    // Tombstones: an auditor who asks sees them; a member who asks does not.
    const deletedId = `${byName.get('deleted (own)')!.metadata.jobId}-0`;
    expect((await t.library.get(VIEWERS.audit, deletedId, { includeDeleted: true })).deleted).toMatchObject({ by: 'UME', reason: 'owner' });
    await expect(t.library.get(VIEWERS.member, deletedId, { includeDeleted: true })).rejects.toSatisfy(notFound);
    // Managers pick anyone in the person filter, and see that person's shared images only.
    expect((await t.library.list(VIEWERS.manager, { person: 'UOTHER' })).images.map((i) => i.channelKind).sort()).toEqual(['playground', 'public']);
    expect((await t.library.people(VIEWERS.manager)).map((p) => p.user).sort()).toEqual(['UME', 'UOTHER']);
  });

  it('legal holds: retention keeps held images (one by one, or all of a person), deletes the rest, and tombstones their rows', async () => {
    const old = '2026-01-05T10:00:00.000Z';
    const held = storedImage({ jobId: 'jheld', user: 'U1', at: old });
    const heldPerson = storedImage({ jobId: 'jperson', user: 'U2', at: old });
    const expired = storedImage({ jobId: 'jexpired', user: 'U1', at: old });
    const recent = storedImage({ jobId: 'jrecent', user: 'U1', at: '2026-01-30T10:00:00.000Z' });
    await store(held, heldPerson, expired, recent);
    await expect(t.library.holdImage(member, 'jheld-0', true)).rejects.toSatisfy((e) => isZimageError(e, 'LIBRARY_FORBIDDEN'));
    expect((await t.library.holdImage(auditor, 'jheld-0', true, 'case 42')).legalHold).toBe(true);
    await t.library.holdPerson(auditor, 'U2', true, 'case 43');
    expect(await t.library.holds(auditor)).toMatchObject({ images: [{ id: 'jheld-0', legalHold: true }], people: [{ user: 'U2', heldBy: 'UAUDIT', reason: 'case 43' }] });
    const retention = new AssetRetention(t.assets, 10, t.redis, t.keys, log, 3600_000, t.library);
    const now = Date.parse('2026-02-01T00:00:00Z');
    // While the holds cannot be read, nothing is deleted (positive control: the same run deletes once they can).
    await t.library.close();
    expect(await retention.runOnce(now)).toBe(0);
    expect(await t.assets.has(expired.key)).toBe(true);
    await t.library.open();
    expect(await retention.runOnce(now)).toBe(3); // the expired image, its sidecar and its preview
    for (const image of [held, heldPerson, recent]) {
      for (const key of [image.key, sidecarKey(image.key), thumbnailKey(image.key)]) expect({ key, kept: await t.assets.has(key) }).toEqual({ key, kept: true });
    }
    for (const key of [expired.key, sidecarKey(expired.key), thumbnailKey(expired.key)]) expect(await t.assets.has(key)).toBe(false);
    await expect(t.library.get(member, 'jexpired-0')).rejects.toSatisfy(notFound);
    expect((await t.library.get(auditor, 'jexpired-0', { includeDeleted: true })).deleted).toMatchObject({ by: 'retention', reason: 'retention' });
    for (const id of ['jheld-0', 'jperson-0', 'jrecent-0']) expect((await t.library.get(auditor, id)).deleted).toBeNull();
    // Lifting the hold lets the next run delete it.
    await t.library.holdImage(auditor, 'jheld-0', false);
    await t.library.holdPerson(auditor, 'U2', false);
    await t.redis.del(t.keys.lock('retention'));
    expect(await retention.runOnce(now)).toBe(6);
    const actions = (await t.audit.recent('slack', 'T1', 10)).map((e) => `${e.action} ${e.target} by ${e.actor}`);
    expect(actions).toEqual(expect.arrayContaining(['legal_hold.set image:jheld-0 by UAUDIT', 'legal_hold.set person:U2 by UAUDIT', 'legal_hold.clear image:jheld-0 by UAUDIT']));
  });

  it('a person deletes their own image: the files go, the row stays as a tombstone for auditors, the audit log says who and when', async () => {
    const mine = storedImage({ jobId: 'jmine', user: 'U1', channel: 'C7' });
    const theirsPublic = storedImage({ jobId: 'jtheirs', user: 'U2' });
    const theirsDm = storedImage({ jobId: 'jtheirsdm', user: 'U2', channelKind: 'dm' });
    const heldOne = storedImage({ jobId: 'jkeep', user: 'U1' });
    await store(mine, theirsPublic, theirsDm, heldOne);
    expect(await code(t.library.delete(member, 'jtheirs-0'))).toBe('LIBRARY_FORBIDDEN');
    expect(await code(t.library.delete(member, 'jtheirsdm-0'))).toBe('IMAGE_NOT_FOUND');
    await t.library.holdImage(auditor, 'jkeep-0', true);
    expect(await code(t.library.delete(member, 'jkeep-0'))).toBe('LEGAL_HOLD');
    expect(await t.assets.has(heldOne.key)).toBe(true);
    const before = Date.now();
    const tombstone = await t.library.delete(member, 'jmine-0');
    expect(tombstone.deleted).toMatchObject({ by: 'U1', reason: 'owner' });
    expect(Date.parse(tombstone.deleted!.at)).toBeGreaterThanOrEqual(before - 1000);
    for (const key of [mine.key, sidecarKey(mine.key), thumbnailKey(mine.key)]) expect(await t.assets.has(key)).toBe(false);
    expect(await t.assets.has(theirsPublic.key)).toBe(true);
    expect((await t.library.list(member)).images.map((i) => i.id)).not.toContain('jmine-0');
    await expect(t.library.get(member, 'jmine-0')).rejects.toSatisfy(notFound);
    expect(await t.library.get(auditor, 'jmine-0', { includeDeleted: true })).toMatchObject({ prompt: mine.metadata.prompt, deleted: { by: 'U1', reason: 'owner' } });
    expect(await code(t.library.delete(member, 'jmine-0'))).toBe('IMAGE_NOT_FOUND');
    const [entry] = await t.audit.recent('slack', 'T1', 1);
    expect(entry).toMatchObject({ action: 'image.delete', actor: 'U1', target: 'image:jmine-0', channel: 'C7', detail: mine.key });
    expect(entry!.at).toBeGreaterThanOrEqual(before);
  });

  it('export streams CSV and JSON Lines in keyset batches, counted, tombstones included, for auditors only', async () => {
    const start = Date.UTC(2026, 5, 1);
    const images = Array.from({ length: 1000 }, (_, i) => storedImage({
      jobId: `jexp${String(i).padStart(4, '0')}`, at: new Date(start + i * 60_000).toISOString(), user: i % 2 ? 'U1' : 'U2', channelKind: i % 3 ? 'public' : 'dm',
      prompt: i === 7 ? '=HYPERLINK("http://x") , "quoted"\nsecond line 海报' : `export row ${i}`,
    }));
    for (let i = 0; i < images.length; i += 250) await upsertRows(t.library.kysely, rowsFromStored(images.slice(i, i + 250)).rows);
    await t.library.kysely.updateTable('images').set({ deleted_at: new Date(), deleted_by: 'U2', delete_reason: 'owner' }).where('id', '=', 'jexp0000-0').execute();
    expect(() => t.library.export(member, {}, 'csv')).toThrow(expect.objectContaining({ code: 'LIBRARY_FORBIDDEN' }));

    // Lazy: with batches of 50, taking the first lines reads one batch; the next is read only when wanted.
    let queries = 0;
    const counting: KyselyPlugin = { transformQuery: (a) => a.node, transformResult: async (a) => { queries++; return a.result; } };
    const jsonl = exportImages(t.library.kysely.withPlugin(counting), auditor, {}, 'jsonl', { batch: 50 });
    const it1 = jsonl.stream[Symbol.asyncIterator]();
    expect(JSON.parse(String((await it1.next()).value))).toMatchObject({ id: 'jexp0999-0' });
    // The stream reads ahead until its buffer is full, then stops until more is taken: wait for that, so any read
    // it would make on its own has been made.
    await expect.poll(() => jsonl.stream.readableLength).toBe(jsonl.stream.readableHighWaterMark);
    expect(queries).toBe(1);
    const lines: string[] = [];
    for (let r = await it1.next(); !r.done; r = await it1.next()) lines.push(String(r.value));
    expect(lines).toHaveLength(999);
    expect(await jsonl.done).toEqual({ rows: 1000, complete: true });
    expect(queries).toBe(21); // 20 full batches and the empty one that ends it
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ id: 'jexp0000-0', deleted: { by: 'U2', reason: 'owner' } });

    // CSV of a date range, with quoting and formula escaping a spreadsheet can open safely.
    const csv = t.library.export(auditor, { from: new Date(start), to: new Date(start + 10 * 60_000) }, 'csv');
    expect(csv).toMatchObject({ contentType: 'text/csv; charset=utf-8', filename: 'zimage-provenance-2026-06-01-2026-06-01.csv' });
    let text = '';
    for await (const chunk of csv.stream) text += String(chunk);
    expect(await csv.done).toEqual({ rows: 10, complete: true });
    const table = parseCsv(text, { columns: true }) as Array<Record<string, string>>;
    expect(Object.keys(table[0]!)).toEqual([...EXPORT_COLUMNS]);
    expect(table.map((r) => r.id)).toEqual(Array.from({ length: 10 }, (_, i) => `jexp${String(9 - i).padStart(4, '0')}-0`));
    expect(table.find((r) => r.id === 'jexp0007-0')!.prompt).toBe(`'=HYPERLINK("http://x") , "quoted"\nsecond line 海报`);
    expect(table.find((r) => r.id === 'jexp0003-0')).toMatchObject({ channel_kind: 'dm', user: 'U1', legal_hold: 'false', deleted_at: '' });
    expect(table.find((r) => r.id === 'jexp0000-0')).toMatchObject({ deleted_by: 'U2', delete_reason: 'owner' });

    // A consumer that goes away stops the reads; `done` says the export did not finish.
    const abandoned = t.library.export(auditor, {}, 'csv');
    for await (const _ of abandoned.stream) break;
    expect(await abandoned.done).toMatchObject({ complete: false });
  });

  it('rows of a delivery made while the database is away wait in Redis and are written when it is back', async () => {
    const writer = new IndexWriter({ sink: t.library, redis: t.redis, keys: t.keys, log });
    const image = storedImage({ jobId: 'jaway' });
    const other = storedImage({ jobId: 'jaway2' });
    await t.library.close();
    await writer.record([image]); // does not throw: the delivery goes on
    await writer.record([other]);
    expect(await t.redis.llen(t.keys.libraryPending())).toBe(2);
    expect(await writer.drain()).toBe(0); // still away: the rows stay
    expect(await t.redis.llen(t.keys.libraryPending())).toBe(2);
    expect(await t.redis.llen(t.keys.libraryRejected())).toBe(0); // nothing is set aside for a database that is away
    await t.library.open();
    expect(await writer.drain()).toBe(2);
    expect(await t.redis.llen(t.keys.libraryPending())).toBe(0);
    expect((await t.library.get(member, 'jaway-0')).assetKey).toBe(image.key);
    await writer.record([image]); // and a second delivery of the same job changes nothing
    expect(await t.library.count(member)).toBe(2);
  });

  it('a job the database refuses does not hold back the jobs waiting with it: they are written, it is set aside once with a warning', async () => {
    const lines: string[] = [];
    const warnings = (jobId: string) => lines.map((l) => JSON.parse(l) as { level: number; jobId?: string; err?: { message?: string } }).filter((l) => l.level === 40 && l.jobId === jobId);
    const writer = new IndexWriter({ sink: t.library, redis: t.redis, keys: t.keys, log: createLogger('warn', {}, { destination: { write: (l: string) => { lines.push(l); } } }) });
    const taken = storedImage({ jobId: 'jtaken' });
    await store(taken);
    // A row no database will take (its file is another image's: the asset key is unique), among good ones —
    // and the same job delivered twice (at-least-once), which one upsert of the whole batch cannot hold either.
    const poison: StoredImage = { ...storedImage({ jobId: 'jpoison' }), key: taken.key };
    const good = ['jgood1', 'jtwice', 'jgood2'].map((jobId) => storedImage({ jobId }));
    await t.library.close();
    for (const job of [good[0]!, good[1]!, poison, good[1]!, good[2]!]) await writer.record([job]);
    expect(await t.redis.llen(t.keys.libraryPending())).toBe(5);
    await t.library.open();
    lines.length = 0; // what was said while the database was away

    expect(await writer.drain()).toBe(4);
    expect(await t.redis.llen(t.keys.libraryPending())).toBe(0);
    expect((await t.library.list(member)).images.map((i) => i.jobId).sort()).toEqual(['jgood1', 'jgood2', 'jtaken', 'jtwice']);
    expect(await code(t.library.get(member, 'jpoison-0'))).toBe('IMAGE_NOT_FOUND');
    // Set aside, bounded, with what it was refused for; one warning names the job and the database's error.
    const rejected = (await t.redis.lrange(t.keys.libraryRejected(), 0, -1)).map((r) => JSON.parse(r) as { jobId: string; error: string; images: StoredImage[] });
    expect(rejected).toMatchObject([{ jobId: 'jpoison', error: expect.stringMatching(/unique|duplicate/i), images: [{ key: taken.key }] }]);
    expect(warnings('jpoison')).toHaveLength(1);
    expect(warnings('jpoison')[0]!.err?.message).toMatch(/unique|duplicate/i);
    // Never retried: the next drains find nothing, and nothing more is said about it.
    expect(await writer.drain()).toBe(0);
    expect(warnings('jpoison')).toHaveLength(1);

    // Refused on the delivery path itself (the database is up): set aside at once, not queued for a retry.
    await writer.record([{ ...storedImage({ jobId: 'jpoison2' }), key: taken.key }]);
    expect(await t.redis.llen(t.keys.libraryPending())).toBe(0);
    expect(await t.redis.llen(t.keys.libraryRejected())).toBe(2);
    expect(warnings('jpoison2')).toHaveLength(1);
    expect(await t.library.count(member)).toBe(4);
  });
});
