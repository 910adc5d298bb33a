/**
 * What every gallery route shares: who is asking (the session and its Viewer), the guard of state-changing
 * requests (same origin + the session's CSRF token), the request's language, and the one mapping of library
 * errors to HTTP answers — an image the viewer may not see is a 404 like a missing one.
 */
import { isZimageError } from '../errors.js';
import { errorBody, headerOf, type FastifyReply, type FastifyRequest } from '../http/server.js';
import { hasMessage, normalizeLocale, t } from '../i18n/index.js';
import type { Logger } from '../infra/logger.js';
import type { Viewer } from '../library/visibility.js';
import type { ChatIdentity } from './identity.js';
import { sameOrigin } from './same-origin.js';
import type { GallerySession, GallerySessions } from './sessions.js';
import type { Viewers } from './viewers.js';

export interface Asker {
  session: GallerySession;
  viewer: Viewer;
  locale: string;
}

const STATUS_OF: Record<string, number> = {
  IMAGE_NOT_FOUND: 404, LIBRARY_FORBIDDEN: 403, LEGAL_HOLD: 409, LIBRARY_BAD_CURSOR: 400,
  LIBRARY_UNAVAILABLE: 503, DATABASE_UNAVAILABLE: 503, DATABASE_LOCKED: 503,
};

export interface GalleryContextOptions {
  sessions: GallerySessions;
  viewers: Viewers;
  publicUrl?: string;
  /** The configured language of a workspace (settings `workspaceLocales`), if any. */
  workspaceLocale: (platform: string, workspace: string) => string | undefined;
  /** The bot's language (settings `locale`, else LOCALE), read when needed. */
  defaultLocale: () => string;
  log: Logger;
}

export class GalleryContext {
  constructor(readonly o: GalleryContextOptions) {}

  get sessions(): GallerySessions { return this.o.sessions; }

  /** The workspace's language, else the browser's first choice, else the bot's. */
  localeOf(req: FastifyRequest, identity?: ChatIdentity): string {
    const configured = identity ? this.o.workspaceLocale(identity.platform, identity.workspace) : undefined;
    const browser = headerOf(req, 'accept-language')?.split(',')[0]?.split(';')[0]?.trim();
    return normalizeLocale(configured ?? (browser || this.o.defaultLocale()));
  }

  /** The signed-in asker, or undefined after answering 401. */
  async asker(req: FastifyRequest, reply: FastifyReply): Promise<Asker | undefined> {
    const session = await this.o.sessions.read(req);
    if (!session) {
      void reply.code(401).send(errorBody('SIGNED_OUT', t(this.localeOf(req), 'gallery.page.signed_out_body')));
      return undefined;
    }
    return { session, viewer: await this.o.viewers.of(session.identity), locale: this.localeOf(req, session.identity) };
  }

  /**
   * The asker of a request that changes something: signed in, sent from a page of this site (Origin), and
   * carrying the session's CSRF token in `x-csrf-token`; otherwise 403 and nothing is done.
   */
  async changer(req: FastifyRequest, reply: FastifyReply): Promise<Asker | undefined> {
    const asker = await this.asker(req, reply);
    if (!asker) return undefined;
    if (!sameOrigin(req, this.o.publicUrl)) {
      void reply.code(403).send(errorBody('CSRF_ORIGIN', 'this request must come from a gallery page of this site'));
      return undefined;
    }
    if (!this.o.sessions.csrfMatches(asker.session, headerOf(req, 'x-csrf-token'))) {
      void reply.code(403).send(errorBody('CSRF_TOKEN', 'the x-csrf-token header is missing or wrong; reload the page'));
      return undefined;
    }
    return asker;
  }

  /** A read by a signed-in asker: what `fn` answers, or the HTTP answer of a library refusal. */
  reading<T>(req: FastifyRequest, reply: FastifyReply, fn: (a: Asker) => Promise<T>): Promise<T | FastifyReply | undefined> {
    return this.answer(req, reply, false, fn);
  }

  /** The same for a change (same origin and CSRF token first, `changer`). */
  changing<T>(req: FastifyRequest, reply: FastifyReply, fn: (a: Asker) => Promise<T>): Promise<T | FastifyReply | undefined> {
    return this.answer(req, reply, true, fn);
  }

  private async answer<T>(req: FastifyRequest, reply: FastifyReply, change: boolean, fn: (a: Asker) => Promise<T>): Promise<T | FastifyReply | undefined> {
    const a = change ? await this.changer(req, reply) : await this.asker(req, reply);
    if (!a) return undefined;
    try {
      return await fn(a);
    } catch (err) {
      return this.refuse(reply, err, a.locale);
    }
  }

  /** Answer a library refusal (its code, the catalogue's words), or rethrow what is not one. */
  refuse(reply: FastifyReply, err: unknown, locale: string): FastifyReply {
    if (!isZimageError(err) || STATUS_OF[err.code] === undefined) throw err;
    const status = STATUS_OF[err.code]!;
    if (status === 503) this.o.log.warn({ err }, 'gallery: the image library is unavailable');
    const key = `library.${err.code === 'LIBRARY_UNAVAILABLE' || status !== 503 ? err.code : 'LIBRARY_UNAVAILABLE'}`;
    return reply.code(status).send(errorBody(err.code, hasMessage(locale, key) ? t(locale, key) : err.message));
  }
}
