/**
 * The Usage page's data: `GET /api/gallery/usage?from&to` (the figures, JSON) and `/api/gallery/usage.png`
 * (the same chart `/zimage usage` posts in chat). Days are the team's (the quota time zone); both ends are
 * included; the default is the last 30 days. Managers and auditors only (library: canReadUsage).
 */
import type { FastifyRequest, HttpServer } from '../http/server.js';
import { HttpError } from '../http/server.js';
import type { ImageLibrary } from '../library/library.js';
import { MAX_USAGE_DAYS, type UsageQuery } from '../library/usage.js';
import { localDate, localMidnight } from '../quota/windows.js';
import type { GalleryContext } from './context.js';
import { parseDay } from './filters.js';

const DEFAULT_DAYS = 30;

/** The range of a usage request: `from`/`to` days, else the last 30 days up to today. */
export function usageQueryOf(req: FastifyRequest, tz: string, now = Date.now()): UsageQuery {
  const q = req.query as Record<string, unknown>;
  const today = localDate(tz, now);
  const to = typeof q.to === 'string' && q.to ? parseDay(q.to, tz, 'to', true)
    : new Date(localMidnight(tz, dayAfter(today)));
  const from = typeof q.from === 'string' && q.from ? parseDay(q.from, tz, 'from')
    : new Date(to.getTime() - DEFAULT_DAYS * 86_400_000);
  if (from >= to) throw new HttpError(400, 'BAD_RANGE', '"from" must be before "to"');
  if (to.getTime() - from.getTime() > (MAX_USAGE_DAYS + 1) * 86_400_000) throw new HttpError(400, 'BAD_RANGE', `a usage range is at most ${MAX_USAGE_DAYS} days`);
  return { from, to, timezone: tz };
}

function dayAfter(d: { y: number; m: number; d: number }): { y: number; m: number; d: number } {
  const next = new Date(Date.UTC(d.y, d.m - 1, d.d + 1));
  return { y: next.getUTCFullYear(), m: next.getUTCMonth() + 1, d: next.getUTCDate() };
}

export function registerUsageRoutes(http: HttpServer, ctx: GalleryContext, library: ImageLibrary, timezone: () => string): void {
  http.app.get('/api/gallery/usage', (req, reply) => ctx.reading(req, reply, (a) => library.usage(a.viewer, usageQueryOf(req, timezone()))));
  http.app.get('/api/gallery/usage.png', (req, reply) => ctx.reading(req, reply, async (a) => {
    const png = await library.usageChart(a.viewer, usageQueryOf(req, timezone()), { locale: a.locale });
    return reply.header('content-type', 'image/png').header('cache-control', 'private, max-age=60').send(png);
  }));
}
