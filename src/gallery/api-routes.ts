/**
 * The gallery's JSON API (README "The gallery"): who I am, the images I may see (filtered, searched, newest
 * first, a keyset page at a time), one image with its provenance, the filters' choices, deleting my own image
 * and — for roles with the audit permission — legal holds. Reads need the session cookie; every change also
 * the same origin and the session's CSRF token (context.ts). The identity is always the session's: nothing a
 * request says about who it is counts.
 */
import { sidecarKey } from '../assets/asset-store.js';
import type { ChatAdapter } from '../chat/types.js';
import { errorBody, jsonBody, type HttpServer } from '../http/server.js';
import type { ImageDetail, ImageRecord } from '../library/image-row.js';
import type { ImageLibrary } from '../library/library.js';
import type { Viewer } from '../library/visibility.js';
import type { ChatLink } from './chat-links.js';
import type { GalleryContext } from './context.js';
import { filterOf } from './filters.js';
import { pageTexts } from '../i18n/index.js';

export interface ApiDeps {
  library: ImageLibrary;
  adapters: ReadonlyMap<string, ChatAdapter>;
  chatLinks: ReadonlyMap<string, ChatLink>;
  /** The thread a job was posted in, while its status record lasts (30 days). */
  threadOf: (jobId: string) => Promise<string | undefined>;
  timezone: () => string;
}

type Q = { Querystring: Record<string, unknown> };
type IdParams = { Params: { id: string } };

const assetUrl = (key: string | null): string | null => (key ? `/assets/${key}` : null);

/** An image as the grid shows it. */
export function cardOf(r: ImageRecord, viewer: Viewer) {
  const gone = r.deleted !== null;
  return {
    id: r.id, prompt: r.prompt, user: r.user, userName: r.userName, channel: r.channel, channelKind: r.channelKind,
    createdAt: r.createdAt, width: r.width, height: r.height, template: r.template?.id ?? null, model: r.model.name,
    legalHold: r.legalHold, deleted: r.deleted, mine: r.user === viewer.user,
    thumbUrl: gone ? null : assetUrl(r.thumbnailKey ?? r.assetKey), imageUrl: gone ? null : assetUrl(r.assetKey),
  };
}

export function registerGalleryApi(http: HttpServer, ctx: GalleryContext, d: ApiDeps): void {
  const app = http.app;

  app.get('/api/gallery/me', (req, reply) => ctx.reading(req, reply, async (a) => ({
    identity: a.session.identity, manager: a.viewer.manager, audit: a.viewer.audit, csrf: ctx.sessions.csrfToken(a.session),
    expiresAt: new Date(a.session.expiresAt).toISOString(), locale: a.locale, timezone: d.timezone(), texts: pageTexts('gallery.page', a.locale),
  })));

  app.post('/api/gallery/signout', (req, reply) => ctx.changing(req, reply, async (a) => {
    await ctx.sessions.revoke(reply, a.session);
    return reply.code(204).send();
  }));

  app.get<Q>('/api/gallery/images', (req, reply) => ctx.reading(req, reply, async (a) => {
    const filter = filterOf(req.query, d.timezone());
    const cursor = typeof req.query.cursor === 'string' ? req.query.cursor : undefined;
    const limit = Number(req.query.limit ?? 60);
    const [page, total] = await Promise.all([
      d.library.list(a.viewer, filter, { limit: Number.isFinite(limit) ? limit : 60, ...(cursor ? { cursor } : {}) }),
      // The count only with the first page: it does not change as one scrolls.
      cursor ? Promise.resolve(undefined) : d.library.count(a.viewer, filter),
    ]);
    return { images: page.images.map((r) => cardOf(r, a.viewer)), next: page.next, ...(total !== undefined ? { total } : {}) };
  }));

  app.get<IdParams>('/api/gallery/images/:id', (req, reply) => ctx.reading(req, reply, async (a) => ({
    image: await detailOf(await d.library.get(a.viewer, req.params.id, { includeDeleted: true }), a.viewer, d),
  })));

  app.get('/api/gallery/filters', (req, reply) => ctx.reading(req, reply, async (a) => {
    const [people, facets] = await Promise.all([d.library.people(a.viewer), d.library.facets(a.viewer)]);
    return { people, ...facets };
  }));

  app.delete<IdParams>('/api/gallery/images/:id', (req, reply) => ctx.changing(req, reply, async (a) => ({
    image: cardOf(await d.library.delete(a.viewer, req.params.id), a.viewer),
  })));

  app.post<IdParams>('/api/gallery/images/:id/hold', (req, reply) => ctx.changing(req, reply, async (a) => {
    const body = jsonBody(req);
    if (typeof body.on !== 'boolean') return reply.code(400).send(errorBody('BAD_HOLD', '"on" must be true or false'));
    return { image: cardOf(await d.library.holdImage(a.viewer, req.params.id, body.on, reasonOf(body)), a.viewer) };
  }));

  app.get('/api/gallery/holds', (req, reply) => ctx.reading(req, reply, async (a) => {
    const holds = await d.library.holds(a.viewer);
    return { images: holds.images.map((r) => cardOf(r, a.viewer)), people: holds.people };
  }));

  app.post('/api/gallery/holds/people', (req, reply) => ctx.changing(req, reply, async (a) => {
    const body = jsonBody(req);
    const user = typeof body.user === 'string' ? body.user.trim() : '';
    if (typeof body.on !== 'boolean' || user === '' || user.length > 200) {
      return reply.code(400).send(errorBody('BAD_HOLD', '"user" (a user id) and "on" (true or false) are required'));
    }
    await d.library.holdPerson(a.viewer, user, body.on, reasonOf(body));
    return { ok: true };
  }));
}

function reasonOf(body: Record<string, unknown>): string {
  return typeof body.reason === 'string' ? body.reason.slice(0, 500) : '';
}

/** One image for the detail view: its card, provenance, links and what the viewer may do with it. */
async function detailOf(image: ImageDetail, viewer: Viewer, d: ApiDeps) {
  const gone = image.deleted !== null;
  const thread = gone ? undefined : await d.threadOf(image.jobId).catch(() => undefined);
  const link = d.chatLinks.get(image.platform);
  return {
    ...cardOf(image, viewer),
    jobId: image.jobId, index: image.index, seed: image.seed, steps: image.steps, timings: image.timings,
    template: image.template, model: image.model, assetKey: image.assetKey, provenance: image.provenance,
    sidecarUrl: gone ? null : assetUrl(sidecarKey(image.assetKey)),
    chatLink: gone || !link ? null : link({ workspace: image.workspace, channel: image.channel, ...(thread ? { thread } : {}) }),
    can: {
      delete: !gone && image.user === viewer.user && !image.legalHold,
      hold: viewer.audit,
      again: !gone && typeof d.adapters.get(viewer.platform)?.startThread === 'function',
    },
  };
}
