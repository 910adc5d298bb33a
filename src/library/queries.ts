/**
 * Reading the index: a viewer's images newest first in keyset pages (a cursor is the last row's time and id,
 * so pages stay stable while new images arrive), filtered by person, channel, template, model, date range
 * and prompt words; one image by id or by asset key; counts. Every query carries the visibility condition
 * (visibility.ts). Unknown people, channels, templates or models simply match nothing.
 */
import type { Kysely, SelectQueryBuilder } from 'kysely';
import { ZimageError } from '../errors.js';
import { RECORD_COLUMNS, recordFromRow, type ImageDetail, type ImageRecord, type ImageRow, type RecordRow } from './image-row.js';
import { storableText } from './pg-text.js';
import type { LibrarySchema } from './schema.js';
import { searchTerms, searchWhere } from './search.js';
import { visibleWhere, type SeeOptions, type Viewer } from './visibility.js';

export interface ImageFilter extends SeeOptions {
  /** A person's user id (as the platform names them). */
  person?: string;
  channel?: string;
  template?: string;
  model?: string;
  /** Made at or after. */
  from?: Date;
  /** Made before. */
  to?: Date;
  /** Prompt words (search.ts: any script, cut at MAX_SEARCH_CHARS). */
  search?: string;
}

export interface PageRequest {
  /** Default DEFAULT_PAGE, at most MAX_PAGE. */
  limit?: number;
  /** From the previous page's `next`. */
  cursor?: string;
}

export interface ImagePage {
  images: ImageRecord[];
  /** Cursor of the next page; null on the last one. */
  next: string | null;
}

export const DEFAULT_PAGE = 50;
export const MAX_PAGE = 200;

interface Cursor { at: Date; id: string }

export function encodeCursor(row: Pick<ImageRow, 'created_at' | 'id'>): string {
  const at = row.created_at instanceof Date ? row.created_at : new Date(row.created_at);
  return Buffer.from(JSON.stringify([at.toISOString(), row.id])).toString('base64url');
}

export function decodeCursor(cursor: string): Cursor {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    const date = new Date(String(at));
    // An id the index could not hold (a NUL: pg-text.ts) is in no cursor this library made.
    if (typeof at === 'string' && typeof id === 'string' && storableText(id) === id && !Number.isNaN(date.getTime())) return { at: date, id };
  } catch { /* fall through */ }
  throw new ZimageError('LIBRARY_BAD_CURSOR', 'the page cursor is not one this library made');
}

type ImagesQuery = SelectQueryBuilder<LibrarySchema, 'images', object>;

/** The filtered, visible images (no order, no limit). */
export function filtered(db: Kysely<LibrarySchema>, viewer: Viewer, f: ImageFilter): ImagesQuery {
  let q: ImagesQuery = db.selectFrom('images').where(visibleWhere(viewer, f));
  if (f.person !== undefined) q = q.where('images.user_id', '=', f.person);
  if (f.channel !== undefined) q = q.where('images.channel', '=', f.channel);
  if (f.template !== undefined) q = q.where('images.template_id', '=', f.template);
  if (f.model !== undefined) q = q.where('images.model_id', '=', f.model);
  if (f.from) q = q.where('images.created_at', '>=', f.from);
  if (f.to) q = q.where('images.created_at', '<', f.to);
  const terms = searchTerms(f.search);
  if (terms.length > 0) q = q.where(searchWhere(terms));
  return q;
}

/** One page of rows, newest first, after `cursor`. */
export async function pageOfRows(db: Kysely<LibrarySchema>, viewer: Viewer, f: ImageFilter, limit: number, cursor?: Cursor): Promise<RecordRow[]> {
  let q = filtered(db, viewer, f);
  if (cursor) q = q.where((eb) => eb(eb.refTuple('images.created_at', 'images.id'), '<', eb.tuple(cursor.at, cursor.id)));
  return q.select(RECORD_COLUMNS).orderBy('images.created_at', 'desc').orderBy('images.id', 'desc').limit(limit).execute() as Promise<RecordRow[]>;
}

export async function listImages(db: Kysely<LibrarySchema>, viewer: Viewer, f: ImageFilter = {}, page: PageRequest = {}): Promise<ImagePage> {
  const limit = Math.min(MAX_PAGE, Math.max(1, Math.floor(page.limit ?? DEFAULT_PAGE)));
  const rows = await pageOfRows(db, viewer, f, limit + 1, page.cursor ? decodeCursor(page.cursor) : undefined);
  const more = rows.length > limit;
  const shown = more ? rows.slice(0, limit) : rows;
  return { images: shown.map(recordFromRow), next: more ? encodeCursor(shown.at(-1)!) : null };
}

export async function countImages(db: Kysely<LibrarySchema>, viewer: Viewer, f: ImageFilter = {}): Promise<number> {
  const row = await filtered(db, viewer, f).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
  return Number(row?.n ?? 0);
}

const notFound = (what: string): ZimageError => new ZimageError('IMAGE_NOT_FOUND', `no image ${what}`, { image: what });

/** One image the viewer may see, with its provenance; IMAGE_NOT_FOUND when it does not exist or is not visible to them (the same answer). */
export async function getImage(db: Kysely<LibrarySchema>, viewer: Viewer, id: string, o: SeeOptions = {}): Promise<ImageDetail> {
  const row = await db.selectFrom('images').select([...RECORD_COLUMNS, 'images.provenance']).where('images.id', '=', id).where(visibleWhere(viewer, o)).executeTakeFirst();
  if (!row) throw notFound(id);
  return { ...recordFromRow(row as RecordRow), provenance: (row as Pick<ImageRow, 'provenance'>).provenance as Record<string, unknown> };
}

/** The image a stored file belongs to (the image itself or its preview), if the viewer may see it. */
export async function imageOfAsset(db: Kysely<LibrarySchema>, viewer: Viewer, key: string): Promise<ImageRecord> {
  const row = await db.selectFrom('images').select(RECORD_COLUMNS)
    .where((eb) => eb.or([eb('images.asset_key', '=', key), eb('images.thumb_key', '=', key)]))
    .where(visibleWhere(viewer)).executeTakeFirst();
  if (!row) throw notFound(key);
  return recordFromRow(row as RecordRow);
}

/** The people with images the viewer may see (for a person filter), most images first. */
export async function peopleOf(db: Kysely<LibrarySchema>, viewer: Viewer, limit = 500): Promise<Array<{ user: string; userName: string | null; images: number }>> {
  const rows = await filtered(db, viewer, {})
    .select((eb) => ['images.user_id', eb.fn.max('images.user_name').as('user_name'), eb.fn.countAll<number>().as('n')])
    .groupBy('images.user_id').orderBy('n', 'desc').limit(limit).execute();
  return rows.map((r) => ({ user: r.user_id, userName: r.user_name ?? null, images: Number(r.n) }));
}
