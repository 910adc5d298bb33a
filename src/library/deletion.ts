/**
 * A person deletes one of their own images: the image file, its preview and its sidecar go; the row stays
 * as a tombstone (who deleted it and when, with the provenance) that only auditors see; the audit log
 * records it. A held image (legal hold on it or on its maker) cannot be deleted.
 */
import type { Kysely } from 'kysely';
import type { AssetStore } from '../assets/asset-store.js';
import { ZimageError } from '../errors.js';
import { isHeld, type AuditSink } from './holds.js';
import { RECORD_COLUMNS, recordFromRow, type ImageRecord, type RecordRow } from './image-row.js';
import { getImage } from './queries.js';
import type { LibrarySchema } from './schema.js';
import type { Viewer } from './visibility.js';

export async function deleteOwnImage(
  db: Kysely<LibrarySchema>, assets: AssetStore, audit: AuditSink, viewer: Viewer, id: string,
): Promise<ImageRecord> {
  // Not visible → not found, as for a missing image.
  const image = await getImage(db, viewer, id);
  if (image.user !== viewer.user) throw new ZimageError('LIBRARY_FORBIDDEN', 'only the person who made an image can delete it');
  if (await isHeld(db, id)) throw new ZimageError('LEGAL_HOLD', `image ${id} is under a legal hold and cannot be deleted`, { image: id });
  // Files first (the image, its sidecar and its preview): if this fails the image stays whole and visible,
  // and asking again finishes the job.
  await assets.remove(image.assetKey);
  const row = await db.updateTable('images')
    .set({ deleted_at: new Date(), deleted_by: viewer.user, delete_reason: 'owner' })
    .where('images.id', '=', id).where('images.deleted_at', 'is', null)
    .returning(RECORD_COLUMNS).executeTakeFirst();
  if (!row) throw new ZimageError('IMAGE_NOT_FOUND', `no image ${id}`, { image: id });
  await audit.record({
    platform: viewer.platform, workspace: viewer.workspace, channel: image.channel, actor: viewer.user,
    action: 'image.delete', target: `image:${id}`, detail: image.assetKey,
  });
  return recordFromRow(row as RecordRow);
}
