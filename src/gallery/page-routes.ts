/**
 * The gallery's pages (`/gallery`, `/gallery/usage`, `/gallery/export`), their files (`/gallery/static/*`, with
 * the Playground's stylesheet as the base, so both look alike), and the sign-in link: `GET /gallery/signin?code=`
 * shows whose link it is, `POST /gallery/signin` (the page's button) uses the code and sets the session cookie.
 * A link preview (Slack and Lark fetch links they see) therefore cannot use the code up.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errorBody, rawBody, type FastifyReply, type FastifyRequest, type HttpServer } from '../http/server.js';
import { serveFile } from '../http/static-files.js';
import { repoRoot } from '../infra/paths.js';
import type { GalleryContext } from './context.js';
import { expiredPage, sendPage, signedOutPage, signInPage, usedPage } from './pages.js';
import { sameOrigin } from './same-origin.js';
import { GallerySessions } from './sessions.js';
import type { SignInCodes } from './sign-in-codes.js';

/** Each page: its part of the shared page (public/page.html: head, header, tabs) and its script. */
const PAGES: Record<string, { main: string; script: string }> = {
  '/gallery': { main: 'images.html', script: 'gallery.js' },
  '/gallery/usage': { main: 'usage.html', script: 'usage.js' },
  '/gallery/export': { main: 'export.html', script: 'export.js' },
};
/** Where a sign-in may lead: a gallery page (with its query), nothing else. */
const NEXT = /^\/gallery(?:\/usage|\/export)?(?:\?[\w.~%=&+-]{0,500})?$/;

const publicDir = (): string => join(repoRoot(), 'src', 'gallery', 'public');

export function safeNext(value: unknown): string {
  return typeof value === 'string' && NEXT.test(value) ? value : '/gallery';
}

export function registerGalleryPages(http: HttpServer, ctx: GalleryContext, codes: SignInCodes): void {
  const app = http.app;
  for (const [path, page] of Object.entries(PAGES)) {
    app.get(path, async (req, reply) => {
      const session = await ctx.sessions.read(req);
      if (!session) return sendPage(reply, 401, signedOutPage(ctx.localeOf(req)));
      const [shell, main] = await Promise.all([readFile(join(publicDir(), 'page.html'), 'utf8'), readFile(join(publicDir(), page.main), 'utf8')]);
      return sendPage(reply, 200, shell.replace('<!-- main -->', () => main).replace('<!-- script -->', page.script));
    });
  }
  app.get('/gallery/static/base.css', (_req, reply) => serveFile(reply, join(repoRoot(), 'adapters', 'playground', 'public'), 'style.css'));
  app.get<{ Params: { '*': string } }>('/gallery/static/*', (req, reply) => serveFile(reply, publicDir(), req.params['*'] ?? ''));

  app.get<{ Querystring: Record<string, unknown> }>('/gallery/signin', async (req, reply) => {
    const code = typeof req.query.code === 'string' ? req.query.code : '';
    const locale = ctx.localeOf(req);
    const [peeked, current] = await Promise.all([codes.peek(code), ctx.sessions.read(req)]);
    if (peeked.ok) return sendPage(reply, 200, signInPage(ctx.localeOf(req, peeked.identity), code, peeked.identity, current?.identity, safeNext(req.query.next)));
    if (peeked.reason === 'used') return sendPage(reply, 410, usedPage(locale, current !== undefined && current.id === peeked.session));
    return sendPage(reply, 410, expiredPage(locale));
  });

  app.post('/gallery/signin', async (req: FastifyRequest, reply: FastifyReply) => {
    // The form of the page above, from this site only (a page elsewhere could otherwise sign a browser in as someone else).
    if (!sameOrigin(req, ctx.o.publicUrl)) return reply.code(403).send(errorBody('CSRF_ORIGIN', 'sign in from the page of the sign-in link'));
    const form = new URLSearchParams(rawBody(req).toString('utf8'));
    const locale = ctx.localeOf(req);
    const id = GallerySessions.newId();
    const [redeemed, current] = await Promise.all([codes.redeem(form.get('code') ?? '', id), ctx.sessions.read(req)]);
    if (redeemed.ok) {
      ctx.sessions.issue(reply, id, redeemed.identity);
      return reply.redirect(safeNext(form.get('next')), 303);
    }
    if (redeemed.reason === 'used') return sendPage(reply, 410, usedPage(locale, current !== undefined && current.id === redeemed.session));
    return sendPage(reply, 410, expiredPage(locale));
  });
}
