/**
 * Rebuild the image index from the asset store's sidecars (local directory or S3): every image key, its
 * sidecar read and upserted in batches (idempotent: run it as often as needed). Images stored before
 * previews existed get one made now, unless `thumbnails` is off. A missing or malformed sidecar is counted
 * and reported, never fatal.
 */
import type { Kysely } from 'kysely';
import { thumbnailKey, type AssetStore } from '../assets/asset-store.js';
import { makeThumbnail } from '../assets/thumbnail.js';
import type { Logger } from '../infra/logger.js';
import { rowFromProvenance, upsertRows, type NewImageRow } from './image-row.js';
import type { LibrarySchema } from './schema.js';

export interface BackfillOptions {
  assets: AssetStore;
  db: Kysely<LibrarySchema>;
  log: Logger;
  /** Make missing previews (default true). */
  thumbnails?: boolean;
  batch?: number;
  /** Called after each batch (progress on a terminal). */
  onProgress?: (s: BackfillStats) => void;
}

export interface BackfillStats {
  /** Image keys found. */
  scanned: number;
  /** Rows written. */
  indexed: number;
  /** Images without a readable sidecar, or with one that lacks what a row needs. */
  skipped: number;
  /** Previews made for images that had none. */
  thumbnails: number;
}

/** The image's preview key: the one there, or one made now (a sidecar may name a preview that never got stored). */
async function previewOf(o: BackfillOptions, key: string, stats: BackfillStats): Promise<string | null> {
  const thumb = thumbnailKey(key);
  if (await o.assets.has(thumb)) return thumb;
  if (o.thumbnails === false) return null;
  try {
    await o.assets.putFile(thumb, await makeThumbnail(await o.assets.get(key)));
    stats.thumbnails++;
    return thumb;
  } catch (err) {
    o.log.warn({ err, key }, 'backfill: could not make a preview');
    return null;
  }
}

export async function backfillIndex(o: BackfillOptions): Promise<BackfillStats> {
  const stats: BackfillStats = { scanned: 0, indexed: 0, skipped: 0, thumbnails: 0 };
  const size = o.batch ?? 200;
  let rows: NewImageRow[] = [];
  const flush = async (): Promise<void> => {
    await upsertRows(o.db, rows);
    stats.indexed += rows.length;
    rows = [];
    o.onProgress?.(stats);
  };
  for await (const key of o.assets.list()) {
    stats.scanned++;
    const sidecar = await o.assets.sidecar(key);
    if (sidecar === null) {
      stats.skipped++;
      o.log.warn({ key }, 'backfill: no readable sidecar; image skipped');
      continue;
    }
    const row = rowFromProvenance({ ...(sidecar as object), file: key }, { thumbnailKey: null });
    if ('error' in row) {
      stats.skipped++;
      o.log.warn({ key, error: row.error }, 'backfill: sidecar lacks what the index needs; image skipped');
      continue;
    }
    rows.push({ ...row, thumb_key: await previewOf(o, key, stats) });
    if (rows.length >= size) await flush();
  }
  await flush();
  return stats;
}
