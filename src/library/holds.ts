/**
 * Legal holds: an auditor can hold one image, or everything one person made in the workspace. A held image
 * is skipped by the retention job (ASSET_RETENTION_DAYS) and cannot be deleted, not even by its owner. Every
 * change goes to the audit log.
 */
import { sql, type Expression, type ExpressionBuilder, type Kysely, type SqlBool } from 'kysely';
import { ZimageError } from '../errors.js';
import type { AuditEntry } from '../quota/audit.js';
import { RECORD_COLUMNS, recordFromRow, type ImageRecord, type RecordRow } from './image-row.js';
import { getImage } from './queries.js';
import type { LibrarySchema } from './schema.js';
import type { Viewer } from './visibility.js';

/** Where library actions are recorded (src/quota/audit.ts AuditLog). */
export interface AuditSink {
  record(e: Omit<AuditEntry, 'at'>): Promise<void>;
}

export interface PersonHold { user: string; heldBy: string; heldAt: string; reason: string }

export function requireAudit(viewer: Viewer): void {
  if (!viewer.audit) throw new ZimageError('LIBRARY_FORBIDDEN', 'this needs the audit permission');
}

/** The image is held itself, or its maker is. */
export function heldWhere() {
  return (eb: ExpressionBuilder<LibrarySchema, 'images'>): Expression<SqlBool> => eb.or([
    eb('images.legal_hold', '=', true),
    eb.exists(eb.selectFrom('person_holds').select(sql.lit(1).as('one'))
      .whereRef('person_holds.platform', '=', 'images.platform')
      .whereRef('person_holds.workspace', '=', 'images.workspace')
      .whereRef('person_holds.user_id', '=', 'images.user_id')),
  ]);
}

export async function isHeld(db: Kysely<LibrarySchema>, id: string): Promise<boolean> {
  const row = await db.selectFrom('images').select('images.id').where('images.id', '=', id).where(heldWhere()).executeTakeFirst();
  return row !== undefined;
}

export async function setImageHold(db: Kysely<LibrarySchema>, audit: AuditSink, viewer: Viewer, id: string, on: boolean, reason = ''): Promise<ImageRecord> {
  requireAudit(viewer);
  const image = await getImage(db, viewer, id, { includeDeleted: true });
  const row = await db.updateTable('images')
    .set(on ? { legal_hold: true, held_by: viewer.user, held_at: new Date() } : { legal_hold: false, held_by: null, held_at: null })
    .where('images.id', '=', id).returning(RECORD_COLUMNS).executeTakeFirstOrThrow();
  await audit.record({
    platform: viewer.platform, workspace: viewer.workspace, channel: image.channel, actor: viewer.user,
    action: on ? 'legal_hold.set' : 'legal_hold.clear', target: `image:${id}`, detail: reason,
  });
  return recordFromRow(row as RecordRow);
}

export async function setPersonHold(db: Kysely<LibrarySchema>, audit: AuditSink, viewer: Viewer, person: string, on: boolean, reason = ''): Promise<void> {
  requireAudit(viewer);
  const scope = { platform: viewer.platform, workspace: viewer.workspace, user_id: person };
  if (on) {
    await db.insertInto('person_holds').values({ ...scope, held_by: viewer.user, held_at: new Date(), reason })
      .onConflict((oc) => oc.columns(['platform', 'workspace', 'user_id']).doUpdateSet({ held_by: viewer.user, held_at: new Date(), reason }))
      .execute();
  } else {
    await db.deleteFrom('person_holds').where('platform', '=', scope.platform).where('workspace', '=', scope.workspace).where('user_id', '=', person).execute();
  }
  await audit.record({
    platform: viewer.platform, workspace: viewer.workspace, channel: '', actor: viewer.user,
    action: on ? 'legal_hold.set' : 'legal_hold.clear', target: `person:${person}`, detail: reason,
  });
}

/** What is held in the viewer's workspace: images held one by one, and people. */
export async function listHolds(db: Kysely<LibrarySchema>, viewer: Viewer): Promise<{ images: ImageRecord[]; people: PersonHold[] }> {
  requireAudit(viewer);
  const [images, people] = await Promise.all([
    db.selectFrom('images').select(RECORD_COLUMNS).where('images.platform', '=', viewer.platform).where('images.workspace', '=', viewer.workspace)
      .where('images.legal_hold', '=', true).orderBy('images.created_at', 'desc').limit(1000).execute(),
    db.selectFrom('person_holds').selectAll().where('platform', '=', viewer.platform).where('workspace', '=', viewer.workspace).orderBy('held_at', 'desc').execute(),
  ]);
  return {
    images: images.map((r) => recordFromRow(r as RecordRow)),
    people: people.map((p) => ({ user: p.user_id, heldBy: p.held_by, heldAt: new Date(p.held_at).toISOString(), reason: p.reason })),
  };
}

/** Asset keys sort by day (`YYYY/MM/DD/…`): everything below this string is from a day before `before` (UTC). */
export function dayPrefix(before: Date): string {
  return `${before.toISOString().slice(0, 10).replaceAll('-', '/')}/`;
}

/** The held images among those the retention job would delete (days before `before`). */
export async function heldBefore(db: Kysely<LibrarySchema>, before: Date): Promise<Set<string>> {
  const rows = await db.selectFrom('images').select('images.asset_key')
    .where('images.asset_key', '<', dayPrefix(before)).where('images.deleted_at', 'is', null).where(heldWhere()).execute();
  return new Set(rows.map((r) => r.asset_key));
}

/** After the retention job deleted the files of the days before `before`: their rows become tombstones. */
export async function tombstoneExpired(db: Kysely<LibrarySchema>, before: Date, kept: ReadonlySet<string>): Promise<number> {
  const res = await db.updateTable('images')
    .set({ deleted_at: new Date(), deleted_by: 'retention', delete_reason: 'retention' })
    .where('images.asset_key', '<', dayPrefix(before)).where('images.deleted_at', 'is', null)
    .where((eb) => eb.not(heldWhere()(eb)))
    .$if(kept.size > 0, (q) => q.where('images.asset_key', 'not in', [...kept]))
    .executeTakeFirst();
  return Number(res.numUpdatedRows);
}
