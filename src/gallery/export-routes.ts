/**
 * Compliance export through the gallery (audit permission): `POST /api/gallery/export` with the filter and
 * the format (CSV or JSON Lines; CSRF-checked like every change) counts the rows and answers with a download
 * URL that works once, for two minutes, for the same session; `GET` on it streams the file from the library's
 * keyset batches (bounded memory however large the range, library/export.ts) straight to the browser's
 * download, with the count in `x-row-count`. Every export is written to the audit log with the rows it sent.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { errorBody, jsonBody, type HttpServer } from '../http/server.js';
import { t } from '../i18n/index.js';
import type { Logger } from '../infra/logger.js';
import type { AuditSink } from '../library/holds.js';
import { exportFileOf } from '../library/export.js';
import type { ImageLibrary } from '../library/library.js';
import type { ImageFilter } from '../library/queries.js';
import type { GalleryContext } from './context.js';
import { filterOf } from './filters.js';

const TICKET_TTL_MS = 120_000;

export interface ExportDeps {
  library: ImageLibrary;
  redis: Redis;
  root: string;
  audit: AuditSink;
  timezone: () => string;
  log: Logger;
}

interface Ticket { session: string; format: 'csv' | 'jsonl'; filter: Record<string, unknown>; rows: number }

const ticketKey = (root: string, ticket: string): string => `${root}:gallery:export:${createHash('sha256').update(ticket).digest('base64url')}`;

/** The filter as stored with a ticket (dates as ISO strings) and back. */
function storable(f: ImageFilter): Record<string, unknown> {
  return { ...f, ...(f.from ? { from: f.from.toISOString() } : {}), ...(f.to ? { to: f.to.toISOString() } : {}) };
}
function revived(f: Record<string, unknown>): ImageFilter {
  const out = { ...f } as ImageFilter & Record<string, unknown>;
  if (typeof f.from === 'string') out.from = new Date(f.from);
  if (typeof f.to === 'string') out.to = new Date(f.to);
  return out;
}

export function registerExportRoutes(http: HttpServer, ctx: GalleryContext, d: ExportDeps): void {
  http.app.post('/api/gallery/export', (req, reply) => ctx.changing(req, reply, async (a) => {
    const body = jsonBody(req);
    if (!a.viewer.audit) return reply.code(403).send(errorBody('LIBRARY_FORBIDDEN', t(a.locale, 'library.LIBRARY_FORBIDDEN')));
    const format = body.format === 'jsonl' ? 'jsonl' : body.format === 'csv' || body.format === undefined ? 'csv' : null;
    if (!format) return reply.code(400).send(errorBody('BAD_FORMAT', '"format" must be csv or jsonl'));
    const filter: ImageFilter = { includeDeleted: true, ...filterOf(body, d.timezone()) };
    const rows = await d.library.count(a.viewer, filter);
    const ticket = randomBytes(24).toString('base64url');
    const stored: Ticket = { session: a.session.id, format, filter: storable(filter), rows };
    await d.redis.set(ticketKey(d.root, ticket), JSON.stringify(stored), 'PX', TICKET_TTL_MS);
    return { rows, url: `/api/gallery/export/${ticket}`, expiresInS: TICKET_TTL_MS / 1000 };
  }));

  // exposeHeadRoutes runs this handler for HEAD too. A HEAD (a link previewer, a download manager checking
  // the file first) only reads the ticket and answers the headers: it neither uses the link up nor exports.
  http.app.get<{ Params: { ticket: string } }>('/api/gallery/export/:ticket', (req, reply) => ctx.reading(req, reply, async (a) => {
    const head = req.method === 'HEAD';
    const key = ticketKey(d.root, req.params.ticket);
    const raw = /^[A-Za-z0-9_-]{32}$/.test(req.params.ticket) ? await (head ? d.redis.get(key) : d.redis.getdel(key)) : null;
    const ticket = raw ? (JSON.parse(raw) as Ticket) : null;
    // Someone else's ticket is no ticket (and a GET uses it up: it was meant for one download).
    if (!ticket || ticket.session !== a.session.id) return reply.code(404).send(errorBody('NOT_FOUND', 'this download link is used or expired; export again'));
    if (head) {
      const file = exportFileOf(revived(ticket.filter), ticket.format);
      return reply.header('content-type', file.contentType).header('content-disposition', `attachment; filename="${file.filename}"`)
        .header('x-row-count', String(ticket.rows)).send();
    }
    const result = d.library.export(a.viewer, revived(ticket.filter), ticket.format);
    const who = a.session.identity;
    void result.done.then(({ rows, complete }) => d.audit.record({
      platform: who.platform, workspace: who.workspace, channel: '', actor: who.user, action: 'library.export',
      target: ticket.format, detail: `${rows} of ${ticket.rows} rows${complete ? '' : ' (stopped early)'} · ${JSON.stringify(ticket.filter)}`,
    })).catch((err: unknown) => d.log.warn({ err }, 'gallery: could not record an export in the audit log'));
    result.stream.on('error', (err) => d.log.warn({ err }, 'gallery: an export stopped with an error'));
    return reply.header('content-type', result.contentType).header('content-disposition', `attachment; filename="${result.filename}"`)
      .header('x-row-count', String(ticket.rows)).send(result.stream);
  }));
}
