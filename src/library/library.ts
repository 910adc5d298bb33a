/**
 * The image library: the index of every image (PGlite by default, PostgreSQL with DATABASE_URL) and what
 * the gallery, chat commands and compliance need from it. Every read takes a Viewer and applies the
 * visibility rules (visibility.ts); an image a viewer may not see is IMAGE_NOT_FOUND, like a missing one.
 * Created with the bot, opened (and migrated) when it starts.
 */
import type { AssetStore } from '../assets/asset-store.js';
import { ZimageError } from '../errors.js';
import type { Logger } from '../infra/logger.js';
import type { StoredImage } from '../jobs/types.js';
import { openLibraryDb, type DbKind, type LibraryDb } from './db.js';
import { deleteOwnImage } from './deletion.js';
import { exportImages, type ExportFormat, type ExportResult } from './export.js';
import { facetsOf, type Facets } from './facets.js';
import { heldBefore, listHolds, setImageHold, setPersonHold, tombstoneExpired, type AuditSink, type PersonHold } from './holds.js';
import { rowsFromStored, upsertRows, type ImageDetail, type ImageRecord } from './image-row.js';
import { migrate } from './migrations.js';
import { countImages, getImage, imageOfAsset, listImages, peopleOf, type ImageFilter, type ImagePage, type PageRequest } from './queries.js';
import type { LibrarySchema } from './schema.js';
import type { ChartOptions } from './usage-chart.js';
import { usageData, type UsageData, type UsageQuery } from './usage.js';
import { storableText, storableValue } from './pg-text.js';
import type { SeeOptions, Viewer } from './visibility.js';
import type { Kysely } from 'kysely';

export interface ImageLibraryOptions {
  /** DATABASE_URL; unset → PGlite under `dataDir/db`. */
  url?: string;
  dataDir: string;
  assets: AssetStore;
  audit: AuditSink;
  log: Logger;
}

/** What the retention job asks before it deletes old files (src/assets/retention.ts). */
export interface RetentionHolds {
  /** Images of the days before `before` that must stay (legal holds). */
  heldBefore(before: Date): Promise<Set<string>>;
  /** After the files went: the rows become tombstones; returns how many. */
  tombstoneExpired(before: Date, kept: ReadonlySet<string>): Promise<number>;
}

export class ImageLibrary implements RetentionHolds {
  private db: LibraryDb | undefined;
  private opening: Promise<void> | undefined;

  constructor(private readonly o: ImageLibraryOptions) {}

  /** Open the database and bring its schema up to date. Fails with DATABASE_UNAVAILABLE / DATABASE_LOCKED. */
  open(): Promise<void> {
    this.opening ??= (async () => {
      const db = await openLibraryDb({ dataDir: this.o.dataDir, log: this.o.log, ...(this.o.url ? { url: this.o.url } : {}) });
      try {
        const ran = await migrate(db.kysely as Kysely<unknown>);
        if (ran.length > 0) this.o.log.info({ migrations: ran, database: db.kind }, 'image index: schema migrated');
      } catch (err) {
        await db.close().catch(() => undefined);
        throw err;
      }
      this.db = db;
    })();
    return this.opening;
  }

  /** Close the database (open() opens it again). */
  async close(): Promise<void> {
    await this.opening?.catch(() => undefined);
    const db = this.db;
    this.db = undefined;
    this.opening = undefined;
    await db?.close();
  }

  get kind(): DbKind | undefined { return this.db?.kind; }

  /** The database handle itself — for tools and tests (backfill, benchmarks); it applies no visibility rule. */
  get kysely(): Kysely<LibrarySchema> {
    if (!this.db) throw new ZimageError('LIBRARY_UNAVAILABLE', 'the image index is not open');
    return this.db.kysely;
  }

  /** Write (or refresh) the rows of a delivered job's images. Idempotent; throws when the database fails. */
  async record(images: readonly StoredImage[]): Promise<void> {
    const { rows, invalid } = rowsFromStored(images);
    for (const bad of invalid) this.o.log.warn({ key: bad.key, error: bad.error }, 'image index: record skipped');
    await upsertRows(this.kysely, rows);
  }

  // Filters, ids and names below come from requests: what PostgreSQL cannot store is made storable (pg-text.ts).
  list(viewer: Viewer, filter: ImageFilter = {}, page: PageRequest = {}): Promise<ImagePage> { return listImages(this.kysely, viewer, storableValue(filter), page); }
  count(viewer: Viewer, filter: ImageFilter = {}): Promise<number> { return countImages(this.kysely, viewer, storableValue(filter)); }
  /** One image with its full provenance (the detail view). */
  get(viewer: Viewer, id: string, o: SeeOptions = {}): Promise<ImageDetail> { return getImage(this.kysely, viewer, storableText(id), o); }
  /** The image an asset key (the file or its preview) belongs to, if the viewer may see it: for direct file URLs. */
  ofAsset(viewer: Viewer, key: string): Promise<ImageRecord> { return imageOfAsset(this.kysely, viewer, storableText(key)); }
  people(viewer: Viewer): Promise<Array<{ user: string; userName: string | null; images: number }>> { return peopleOf(this.kysely, viewer); }
  /** The channels, templates and models of the images the viewer may see (the gallery's filters). */
  facets(viewer: Viewer): Promise<Facets> { return facetsOf(this.kysely, viewer); }

  export(viewer: Viewer, filter: ImageFilter, format: ExportFormat): ExportResult { return exportImages(this.kysely, viewer, storableValue(filter), format); }
  holdImage(viewer: Viewer, id: string, on: boolean, reason = ''): Promise<ImageRecord> { return setImageHold(this.kysely, this.o.audit, viewer, storableText(id), on, storableText(reason)); }
  holdPerson(viewer: Viewer, user: string, on: boolean, reason = ''): Promise<void> { return setPersonHold(this.kysely, this.o.audit, viewer, storableText(user), on, storableText(reason)); }
  holds(viewer: Viewer): Promise<{ images: ImageRecord[]; people: PersonHold[] }> { return listHolds(this.kysely, viewer); }
  delete(viewer: Viewer, id: string): Promise<ImageRecord> { return deleteOwnImage(this.kysely, this.o.assets, this.o.audit, viewer, storableText(id)); }

  usage(viewer: Viewer, q: UsageQuery): Promise<UsageData> { return usageData(this.kysely, viewer, q); }
  async usageChart(viewer: Viewer, q: UsageQuery, o: ChartOptions): Promise<Buffer> {
    // The chart library is big (a third of a second to load): only a bot that draws a chart loads it.
    const { renderUsageChart } = await import('./usage-chart.js');
    return renderUsageChart(await this.usage(viewer, q), o);
  }

  heldBefore(before: Date): Promise<Set<string>> { return heldBefore(this.kysely, before); }
  tombstoneExpired(before: Date, kept: ReadonlySet<string>): Promise<number> { return tombstoneExpired(this.kysely, before, kept); }
}
