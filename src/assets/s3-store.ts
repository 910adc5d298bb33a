/**
 * Asset store on S3-compatible object storage (AWS S3, MinIO, NAS gateways): `<S3_PREFIX>YYYY/MM/DD/<job>-<i>.png`
 * and its `.json` sidecar, path-style addressing by default when an endpoint is given. Checksums are only
 * sent where the API requires them, which keeps S3-compatible servers that lack the newer checksum headers happy.
 * The AWS SDK loads on the first call (a bot on local storage never loads it).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { ZimageError } from '../errors.js';
import { contentTypeOf, dayNumber, isImageKey, isValidKey, keptFiles, sidecarKey, thumbnailKey, type AssetStore } from './asset-store.js';

export interface S3StoreOptions {
  bucket: string;
  region: string;
  endpoint?: string;
  forcePathStyle?: boolean;
  /** Key prefix inside the bucket, '' or ending in '/'. */
  prefix?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404;
}

type S3Sdk = typeof import('@aws-sdk/client-s3');

export class S3AssetStore implements AssetStore {
  private readonly prefix: string;
  private connecting: Promise<{ sdk: S3Sdk; client: S3Client }> | undefined;

  constructor(private readonly o: S3StoreOptions) {
    this.prefix = o.prefix ?? '';
  }

  /** The SDK and its client, made on first use. */
  private s3(): Promise<{ sdk: S3Sdk; client: S3Client }> {
    const o = this.o;
    this.connecting ??= import('@aws-sdk/client-s3').then((sdk) => ({
      sdk,
      client: new sdk.S3Client({
        region: o.region,
        ...(o.endpoint ? { endpoint: o.endpoint } : {}),
        forcePathStyle: o.forcePathStyle ?? o.endpoint !== undefined,
        ...(o.credentials ? { credentials: o.credentials } : {}),
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
        maxAttempts: 3,
      }),
    }));
    return this.connecting;
  }

  private objectKey(key: string): string {
    if (!isValidKey(key)) throw new ZimageError('ASSET_KEY_INVALID', `invalid asset key: ${key}`);
    return this.prefix + key;
  }

  async put(key: string, png: Buffer, sidecar: object): Promise<void> {
    const { sdk, client } = await this.s3();
    const Bucket = this.o.bucket;
    // Image first, sidecar second: a sidecar never describes a missing image.
    await client.send(new sdk.PutObjectCommand({ Bucket, Key: this.objectKey(key), Body: png, ContentType: 'image/png' }));
    await client.send(new sdk.PutObjectCommand({
      Bucket, Key: this.objectKey(sidecarKey(key)), Body: JSON.stringify(sidecar, null, 2), ContentType: 'application/json; charset=utf-8',
    }));
  }

  async putFile(key: string, data: Buffer): Promise<void> {
    const { sdk, client } = await this.s3();
    await client.send(new sdk.PutObjectCommand({ Bucket: this.o.bucket, Key: this.objectKey(key), Body: data, ContentType: contentTypeOf(key) }));
  }

  async get(key: string): Promise<Buffer> {
    const { sdk, client } = await this.s3();
    try {
      const res = await client.send(new sdk.GetObjectCommand({ Bucket: this.o.bucket, Key: this.objectKey(key) }));
      if (!res.Body) throw new ZimageError('ASSET_MISSING', `asset not found: ${key}`);
      return Buffer.from(await res.Body.transformToByteArray());
    } catch (err) {
      if (isNotFound(err)) throw new ZimageError('ASSET_MISSING', `asset not found: ${key}`);
      throw err;
    }
  }

  async sidecar(key: string): Promise<unknown> {
    try {
      return JSON.parse((await this.get(sidecarKey(key))).toString('utf8'));
    } catch {
      return null;
    }
  }

  async has(key: string): Promise<boolean> {
    const { sdk, client } = await this.s3();
    try {
      await client.send(new sdk.HeadObjectCommand({ Bucket: this.o.bucket, Key: this.objectKey(key) }));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  async *list(): AsyncIterable<string> {
    // ListObjectsV2 returns keys in UTF-8 binary order, which is day order for our layout.
    for await (const objectKey of this.objects(this.prefix)) {
      const key = objectKey.slice(this.prefix.length);
      if (isImageKey(key)) yield key;
    }
  }

  async remove(key: string): Promise<void> {
    const { sdk, client } = await this.s3();
    // DeleteObject of a missing key succeeds (S3 and compatible servers answer 204).
    await Promise.all([key, sidecarKey(key), thumbnailKey(key)].map((k) => client.send(new sdk.DeleteObjectCommand({ Bucket: this.o.bucket, Key: this.objectKey(k) }))));
  }

  /** Delete every object of the days before `before` (UTC) but those of the images in `keep`; returns the number deleted. */
  async prune(before: Date, keep?: ReadonlySet<string>): Promise<number> {
    const cutoff = dayNumber(before);
    const kept = new Set([...keptFiles(keep)].map((k) => this.prefix + k));
    let deleted = 0;
    for (const year of await this.folders(this.prefix)) {
      for (const month of await this.folders(year)) {
        for (const day of await this.folders(month)) {
          const ymd = day.slice(this.prefix.length).split('/').filter(Boolean).map(Number);
          if (ymd.length !== 3 || ymd.some((n) => !Number.isInteger(n))) continue;
          if (ymd[0]! * 10_000 + ymd[1]! * 100 + ymd[2]! >= cutoff) continue;
          deleted += await this.deleteAll(day, kept);
        }
      }
    }
    return deleted;
  }

  private async folders(prefix: string): Promise<string[]> {
    const { sdk, client } = await this.s3();
    const out: string[] = [];
    let token: string | undefined;
    do {
      const res = await client.send(new sdk.ListObjectsV2Command({ Bucket: this.o.bucket, Prefix: prefix, Delimiter: '/', ...(token ? { ContinuationToken: token } : {}) }));
      for (const p of res.CommonPrefixes ?? []) if (p.Prefix && /^\d+\/$/.test(p.Prefix.slice(prefix.length))) out.push(p.Prefix);
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  /** Every object key under a prefix, page by page. */
  private async *objects(prefix: string): AsyncIterable<string> {
    const { sdk, client } = await this.s3();
    let token: string | undefined;
    do {
      const res = await client.send(new sdk.ListObjectsV2Command({ Bucket: this.o.bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
      for (const c of res.Contents ?? []) if (c.Key) yield c.Key;
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
  }

  private async deleteAll(prefix: string, kept: ReadonlySet<string>): Promise<number> {
    const { sdk, client } = await this.s3();
    const keys: string[] = [];
    for await (const key of this.objects(prefix)) if (!kept.has(key)) keys.push(key);
    for (let i = 0; i < keys.length; i += 8) {
      await Promise.all(keys.slice(i, i + 8).map((Key) => client.send(new sdk.DeleteObjectCommand({ Bucket: this.o.bucket, Key }))));
    }
    return keys.length;
  }
}
