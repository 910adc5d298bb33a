/**
 * The S3 asset store against a tiny local S3-compatible server (path-style PUT/GET/HEAD/DELETE and
 * ListObjectsV2 with prefix, delimiter and pages of at most PAGE keys), so the real @aws-sdk/client-s3
 * requests are exercised — and the image index's backfill reads its sidecars from there.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { provenanceRecord } from '../../src/assets/provenance.js';
import { S3AssetStore } from '../../src/assets/s3-store.js';
import { isZimageError } from '../../src/errors.js';
import { createLogger } from '../../src/infra/logger.js';
import { backfillIndex } from '../../src/library/backfill.js';
import { migrate } from '../../src/library/migrations.js';
import { listImages } from '../../src/library/queries.js';
import { openBackend } from '../helpers/library-backends.js';
import { storedImage } from '../helpers/library-fixtures.js';

const objects = new Map<string, Buffer>();
const contentTypes = new Map<string, string>();
/** Keys per ListObjectsV2 page: small, so every listing crosses pages. */
const PAGE = 3;
const seen: Array<{ method: string; path: string; auth: boolean }> = [];
let server: Server;
let endpoint = '';

const xml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const [, bucket, ...rest] = url.pathname.split('/');
    const key = decodeURIComponent(rest.join('/'));
    seen.push({ method: req.method ?? '', path: url.pathname, auth: String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256') });
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (bucket !== 'zimage-test') { res.writeHead(404).end(); return; }
      if (req.method === 'PUT') {
        objects.set(key, Buffer.concat(chunks));
        contentTypes.set(key, String(req.headers['content-type'] ?? ''));
        res.writeHead(200, { etag: '"x"' }).end();
        return;
      }
      if (req.method === 'DELETE') { objects.delete(key); res.writeHead(204).end(); return; }
      if (req.method === 'GET' && url.searchParams.get('list-type') === '2') {
        const prefix = url.searchParams.get('prefix') ?? '';
        const delim = url.searchParams.get('delimiter');
        const after = url.searchParams.get('continuation-token') ?? '';
        const keys = [...objects.keys()].filter((k) => k.startsWith(prefix)).sort();
        const entries: Array<{ key: string; folder: boolean }> = [];
        for (const k of keys) {
          const i = delim ? k.indexOf(delim, prefix.length) : -1;
          const entry = i >= 0 ? { key: k.slice(0, i + 1), folder: true } : { key: k, folder: false };
          if (entries.at(-1)?.key !== entry.key) entries.push(entry);
        }
        const rest = entries.filter((e) => e.key > after);
        const page = rest.slice(0, PAGE);
        const truncated = rest.length > page.length;
        const contents = page.filter((e) => !e.folder).map((e) => e.key);
        const prefixes = page.filter((e) => e.folder).map((e) => e.key);
        res.writeHead(200, { 'content-type': 'application/xml' }).end(`<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>${bucket}</Name><Prefix>${xml(prefix)}</Prefix><KeyCount>${page.length}</KeyCount><IsTruncated>${truncated}</IsTruncated>${truncated ? `<NextContinuationToken>${xml(page.at(-1)!.key)}</NextContinuationToken>` : ''}${contents.map((k) => `<Contents><Key>${xml(k)}</Key><Size>${objects.get(k)!.length}</Size></Contents>`).join('')}${prefixes.map((p) => `<CommonPrefixes><Prefix>${xml(p)}</Prefix></CommonPrefixes>`).join('')}</ListBucketResult>`);
        return;
      }
      const body = objects.get(key);
      if (!body) {
        res.writeHead(404, { 'content-type': 'application/xml' }).end(req.method === 'HEAD' ? undefined : '<?xml version="1.0"?><Error><Code>NoSuchKey</Code><Message>no</Message></Error>');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
      res.end(req.method === 'HEAD' ? undefined : body);
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((ok) => server.close(() => ok()));
});

const store = (): S3AssetStore => new S3AssetStore({
  bucket: 'zimage-test', region: 'us-east-1', endpoint, prefix: 'bot/', credentials: { accessKeyId: 'AKIATEST', secretAccessKey: 'test-secret' },
});

describe('S3 asset store', () => {
  it('puts an image and its sidecar, reads them back, and knows what it has', async () => {
    const s = store();
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
    await s.put('2026/11/24/j1-0.png', png, { prompt: 'a cat', jobId: 'j1' });
    expect([...objects.keys()].sort()).toEqual(['bot/2026/11/24/j1-0.json', 'bot/2026/11/24/j1-0.png']);
    expect(seen.every((r) => r.auth)).toBe(true);
    expect(seen.some((r) => r.path === '/zimage-test/bot/2026/11/24/j1-0.png')).toBe(true);
    expect(await s.get('2026/11/24/j1-0.png')).toEqual(png);
    expect(await s.sidecar('2026/11/24/j1-0.png')).toEqual({ prompt: 'a cat', jobId: 'j1' });
    expect(await s.has('2026/11/24/j1-0.png')).toBe(true);
    expect(await s.has('2026/11/24/nope-0.png')).toBe(false);
    expect(await s.sidecar('2026/11/24/nope-0.png')).toBeNull();
    const err = await s.get('2026/11/24/nope-0.png').catch((e: unknown) => e);
    expect(isZimageError(err, 'ASSET_MISSING')).toBe(true);
    await expect(s.put('../etc/passwd', png, {})).rejects.toThrow(/invalid asset key/);
  });

  it('retention deletes whole days before the cutoff and keeps the rest', async () => {
    objects.clear();
    const s = store();
    const png = Buffer.from('png');
    for (const key of ['2025/12/31/old-0.png', '2026/01/09/old-0.png', '2026/01/10/keep-0.png', '2026/02/01/keep-0.png']) await s.put(key, png, {});
    objects.set('elsewhere/2020/01/01/x.png', png);
    const deleted = await s.prune(new Date('2026-01-10T12:00:00Z'));
    expect(deleted).toBe(4);
    expect(await s.has('2025/12/31/old-0.png')).toBe(false);
    expect(await s.has('2026/01/09/old-0.png')).toBe(false);
    expect(await s.has('2026/01/10/keep-0.png')).toBe(true);
    expect(await s.has('2026/02/01/keep-0.png')).toBe(true);
    expect(objects.has('elsewhere/2020/01/01/x.png')).toBe(true);
  });
});

describe('S3 asset store: previews, listing and removal', () => {
  it('stores a preview with its content type, lists only images in day order across pages, removes an image with its files', async () => {
    objects.clear();
    const s = store();
    const png = Buffer.from('png');
    const keys = ['2026/01/09/a-0.png', '2026/01/09/a-1.png', '2026/01/10/b-0.webp', '2026/01/10/c-0.jpg', '2026/02/01/d-0.png'];
    for (const key of keys) {
      await s.put(key, png, { file: key });
      await s.putFile(key.replace(/\.\w+$/, '.thumb.webp'), Buffer.from('thumb'));
    }
    objects.set('bot/2026/01/09/stray.txt', png);
    objects.set('elsewhere/2026/01/09/x-0.png', png);
    expect(contentTypes.get('bot/2026/01/09/a-0.thumb.webp')).toBe('image/webp');
    expect(await s.get('2026/01/10/b-0.thumb.webp')).toEqual(Buffer.from('thumb'));
    const listed: string[] = [];
    for await (const key of s.list()) listed.push(key);
    expect(listed).toEqual(keys);
    await s.remove('2026/01/09/a-1.png');
    for (const k of ['a-1.png', 'a-1.json', 'a-1.thumb.webp']) expect(objects.has(`bot/2026/01/09/${k}`)).toBe(false);
    expect(objects.has('bot/2026/01/09/a-0.png')).toBe(true);
    await s.remove('2026/01/09/a-1.png'); // already gone: not an error
  });

  it('retention keeps the images it is told to keep, with their sidecars and previews', async () => {
    objects.clear();
    const s = store();
    for (const key of ['2026/01/05/held-0.png', '2026/01/05/gone-0.png']) {
      await s.put(key, Buffer.from('png'), {});
      await s.putFile(key.replace('.png', '.thumb.webp'), Buffer.from('t'));
    }
    expect(await s.prune(new Date('2026-01-10T00:00:00Z'), new Set(['2026/01/05/held-0.png']))).toBe(3);
    expect([...objects.keys()].sort()).toEqual(['bot/2026/01/05/held-0.json', 'bot/2026/01/05/held-0.png', 'bot/2026/01/05/held-0.thumb.webp']);
  });

  it('the image index is rebuilt from its sidecars (npm run index:backfill)', async () => {
    objects.clear();
    const s = store();
    const images = [storedImage({ jobId: 'js3a', prompt: '蓝色科技感手机海报' }), storedImage({ jobId: 'js3b', prompt: 'summer sale poster' })];
    for (const i of images) await s.put(i.key, await sharp({ create: { width: 64, height: 48, channels: 3, background: '#3366cc' } }).png().toBuffer(), provenanceRecord(i.metadata, i.key));
    const b = await openBackend('postgres');
    try {
      await migrate(b.db.kysely as never);
      const stats = await backfillIndex({ assets: s, db: b.db.kysely, log: createLogger('silent') });
      expect(stats).toEqual({ scanned: 2, indexed: 2, skipped: 0, thumbnails: 2 });
      const viewer = { platform: 'slack', workspace: 'T1', user: 'U1', manager: false, audit: false };
      const found = await listImages(b.db.kysely, viewer, { search: '海报' });
      expect(found.images.map((i) => i.jobId)).toEqual(['js3a']);
      expect(found.images[0]!.thumbnailKey).toBe(images[0]!.metadata.thumbnailKey);
      const preview = await sharp(await s.get(found.images[0]!.thumbnailKey!)).metadata();
      expect([preview.format, preview.width, preview.height]).toEqual(['webp', 64, 48]); // never enlarged
    } finally {
      await b.close();
    }
  });
});
