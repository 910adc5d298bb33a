/**
 * The S3 asset store against a tiny local S3-compatible server (path-style PUT/GET/HEAD/DELETE and
 * ListObjectsV2 with prefix and delimiter), so the real @aws-sdk/client-s3 requests are exercised.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3AssetStore } from '../../src/assets/s3-store.js';
import { isZimageError } from '../../src/errors.js';

const objects = new Map<string, Buffer>();
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
      if (req.method === 'PUT') { objects.set(key, Buffer.concat(chunks)); res.writeHead(200, { etag: '"x"' }).end(); return; }
      if (req.method === 'DELETE') { objects.delete(key); res.writeHead(204).end(); return; }
      if (req.method === 'GET' && url.searchParams.get('list-type') === '2') {
        const prefix = url.searchParams.get('prefix') ?? '';
        const delim = url.searchParams.get('delimiter');
        const keys = [...objects.keys()].filter((k) => k.startsWith(prefix)).sort();
        const prefixes = new Set<string>();
        const contents: string[] = [];
        for (const k of keys) {
          const i = delim ? k.indexOf(delim, prefix.length) : -1;
          if (i >= 0) prefixes.add(k.slice(0, i + 1)); else contents.push(k);
        }
        res.writeHead(200, { 'content-type': 'application/xml' }).end(`<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>${bucket}</Name><Prefix>${xml(prefix)}</Prefix><KeyCount>${contents.length}</KeyCount><IsTruncated>false</IsTruncated>${contents.map((k) => `<Contents><Key>${xml(k)}</Key><Size>${objects.get(k)!.length}</Size></Contents>`).join('')}${[...prefixes].map((p) => `<CommonPrefixes><Prefix>${xml(p)}</Prefix></CommonPrefixes>`).join('')}</ListBucketResult>`);
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
