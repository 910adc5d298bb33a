/**
 * Rebuilding the image index from the sidecars of a local asset store: old sidecars (no channel kind, no
 * preview) are indexed as private with a preview made now, broken ones are skipped and counted, a second run
 * changes nothing. `npm run index:backfill` does the same from the command line, and refuses to open an
 * embedded database another process has open.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sidecarKey, thumbnailKey } from '../../src/assets/asset-store.js';
import { LocalAssetStore } from '../../src/assets/local-store.js';
import { provenanceRecord } from '../../src/assets/provenance.js';
import { createLogger } from '../../src/infra/logger.js';
import { backfillIndex } from '../../src/library/backfill.js';
import { migrate } from '../../src/library/migrations.js';
import { getImage, listImages } from '../../src/library/queries.js';
import type { Viewer } from '../../src/library/visibility.js';
import { openBackend, type TestBackend } from '../helpers/library-backends.js';
import { storedImage } from '../helpers/library-fixtures.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

const owner: Viewer = { platform: 'slack', workspace: 'T1', user: 'U1', manager: false, audit: false };
const auditor: Viewer = { ...owner, user: 'UA', audit: true };
const pngOf = (w: number, h: number): Promise<Buffer> => sharp({ create: { width: w, height: h, channels: 3, background: '#c0392b' } }).png().toBuffer();

describe('index backfill from a local asset store', () => {
  let dir: string;
  let assets: LocalAssetStore;
  let b: TestBackend;
  const current = storedImage({ jobId: 'jnew', prompt: 'summer sale poster', channelKind: 'public' });
  const old = storedImage({ jobId: 'jold', prompt: '蓝色科技感手机海报', channel: 'C9' });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'zimage-backfill-'));
    assets = new LocalAssetStore(join(dir, 'outputs'));
    await assets.putFile(thumbnailKey(current.key), await sharp(await pngOf(32, 32)).webp().toBuffer());
    await assets.put(current.key, await pngOf(512, 512), provenanceRecord(current.metadata, current.key));
    // A sidecar from before channel kinds and previews were recorded.
    const { channelKind: _k, thumbnailKey: _t, ...before } = old.metadata;
    await assets.put(old.key, await pngOf(1024, 768), provenanceRecord(before, old.key));
    // A broken sidecar, and an image without one.
    await assets.put('2026/11/02/jbroken-0.png', await pngOf(8, 8), { file: '2026/11/02/jbroken-0.png', prompt: 'no job id' });
    await assets.put('2026/11/02/jlost-0.png', await pngOf(8, 8), {});
    rmSync(join(dir, 'outputs', sidecarKey('2026/11/02/jlost-0.png')));
    writeFileSync(join(dir, 'outputs', '2026/11/02/notes.txt'), 'not an image');
    b = await openBackend('pglite');
    await migrate(b.db.kysely as never);
  });
  afterAll(async () => {
    await b?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('indexes every readable sidecar, makes missing previews, skips and counts the rest; a second run changes nothing', async () => {
    const log = createLogger('silent');
    expect(await backfillIndex({ assets, db: b.db.kysely, log })).toEqual({ scanned: 4, indexed: 2, skipped: 2, thumbnails: 1 });
    expect(await getImage(b.db.kysely, owner, 'jnew-0')).toMatchObject({ channelKind: 'public', thumbnailKey: thumbnailKey(current.key), prompt: 'summer sale poster' });
    // Unknown kind → private: its owner and auditors see it, nobody else.
    expect(await getImage(b.db.kysely, owner, 'jold-0')).toMatchObject({ channelKind: 'private', channel: 'C9', thumbnailKey: thumbnailKey(old.key) });
    expect((await listImages(b.db.kysely, { ...owner, user: 'U2' })).images.map((i) => i.id)).toEqual(['jnew-0']);
    expect((await listImages(b.db.kysely, auditor, { search: '海报' })).images.map((i) => i.id)).toEqual(['jold-0']);
    const preview = await sharp(await assets.get(thumbnailKey(old.key))).metadata();
    expect([preview.format, preview.width, preview.height]).toEqual(['webp', 256, 192]);
    expect(await backfillIndex({ assets, db: b.db.kysely, log })).toEqual({ scanned: 4, indexed: 2, skipped: 2, thumbnails: 0 });
    expect((await listImages(b.db.kysely, auditor)).images).toHaveLength(2);
  });
});

describe('npm run index:backfill', () => {
  let dir: string;
  let database: TestDatabase;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'zimage-backfill-cli-'));
    const assets = new LocalAssetStore(join(dir, 'outputs'));
    const image = storedImage({ jobId: 'jcli' });
    await assets.put(image.key, await pngOf(64, 64), provenanceRecord(image.metadata, image.key));
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const run = (env: Record<string, string>) => spawnSync(process.execPath, [resolve('dist/src/main/index-backfill.js')], {
    env: { PATH: process.env.PATH, DATA_DIR: dir, LOG_LEVEL: 'silent', CONFIG_FILE: '', ...env }, encoding: 'utf8', timeout: 60_000,
  });

  it('indexes into DATABASE_URL and says what it did', async () => {
    const res = run({ DATABASE_URL: database.url });
    expect(res.stderr).toBe('');
    expect(res.stdout).toMatch(/^index:backfill \(postgres\): 1 images found, 1 indexed, 0 skipped, 1 previews made, in [\d.]+ s\n$/);
    expect(res.status).toBe(0);
  });

  it('refuses the embedded database while another process has it open, naming the way out', async () => {
    const b = await openBackend('pglite');
    try {
      const image = storedImage({ jobId: 'jcli2' });
      await new LocalAssetStore(join(b.dataDir, 'outputs')).put(image.key, await pngOf(64, 64), provenanceRecord(image.metadata, image.key));
      const res = run({ DATA_DIR: b.dataDir });
      expect(res.status).toBe(1);
      expect(res.stderr).toContain('is open in another process');
      expect(res.stderr).toContain('DATABASE_URL');
      await b.db.close(); // the other process lets go: now it works
      const free = run({ DATA_DIR: b.dataDir });
      expect(free.stdout).toContain('index:backfill (pglite): 1 images found, 1 indexed');
      expect(free.status).toBe(0);
    } finally {
      await b.close();
    }
  });
});
