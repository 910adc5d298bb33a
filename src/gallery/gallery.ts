/**
 * The gallery (README "The gallery"): web pages on the bot's port for finding, reusing and auditing images,
 * with sign-in through chat and no passwords. `/zimage gallery` asks `signInLink` for a personal link that
 * works once, within 10 minutes; the link becomes a session cookie that carries the chat identity; every
 * read applies the library's visibility rules, every change needs the same origin and the session's CSRF
 * token, and images are served to a session through `assetGate`.
 */
import type { Redis } from 'ioredis';
import type { ChatAdapter } from '../chat/types.js';
import type { AssetGate } from '../http/asset-routes.js';
import type { HttpServer } from '../http/server.js';
import type { Logger } from '../infra/logger.js';
import type { AuditSink } from '../library/holds.js';
import type { ImageLibrary } from '../library/library.js';
import { registerAgainRoute, type AgainDeps } from './again.js';
import { registerGalleryApi } from './api-routes.js';
import { galleryAssetGate } from './asset-gate.js';
import type { ChatLink } from './chat-links.js';
import { GalleryContext } from './context.js';
import { registerExportRoutes } from './export-routes.js';
import type { ChatIdentity } from './identity.js';
import { registerGalleryPages } from './page-routes.js';
import { GallerySessions } from './sessions.js';
import { CODE_TTL_MS, SignInCodes } from './sign-in-codes.js';
import { registerUsageRoutes } from './usage-routes.js';
import { Viewers } from './viewers.js';

export interface GalleryOptions extends Omit<AgainDeps, 'library' | 'adapters'> {
  http: HttpServer;
  redis: Redis;
  library: ImageLibrary;
  adapters: ReadonlyMap<string, ChatAdapter>;
  audit: AuditSink;
  chatLinks: ReadonlyMap<string, ChatLink>;
  /** The thread a job was posted in, while its status record lasts. */
  threadOf: (jobId: string) => Promise<string | undefined>;
  /** Where people reach the bot: PUBLIC_URL, else the address the start line prints (read when a link is made). */
  publicBase: () => string;
  publicUrl?: string;
  workspaceLocale: (platform: string, workspace: string) => string | undefined;
  /** The bot's language (settings `locale`, else LOCALE), read when needed. */
  defaultLocale: () => string;
  log: Logger;
}

export class Gallery {
  readonly codes: SignInCodes;
  readonly sessions: GallerySessions;
  readonly viewers: Viewers;
  readonly assetGate: AssetGate;

  constructor(private readonly o: GalleryOptions) {
    const root = o.keys.root;
    this.codes = new SignInCodes(o.redis, root);
    this.sessions = new GallerySessions({ redis: o.redis, root, secureCookies: o.publicUrl?.startsWith('https:') ?? false });
    this.viewers = new Viewers(o.quota);
    const log = o.log.child({ component: 'gallery' });
    const ctx = new GalleryContext({
      sessions: this.sessions, viewers: this.viewers, workspaceLocale: o.workspaceLocale, defaultLocale: o.defaultLocale, log,
      ...(o.publicUrl ? { publicUrl: o.publicUrl } : {}),
    });
    const timezone = () => o.quota.timezone;
    registerGalleryPages(o.http, ctx, this.codes);
    registerGalleryApi(o.http, ctx, { library: o.library, adapters: o.adapters, chatLinks: o.chatLinks, threadOf: o.threadOf, timezone });
    registerAgainRoute(o.http, ctx, o);
    registerUsageRoutes(o.http, ctx, o.library, timezone);
    registerExportRoutes(o.http, ctx, { library: o.library, redis: o.redis, root, audit: o.audit, timezone, log });
    this.assetGate = galleryAssetGate(this.sessions, this.viewers, o.library, log);
  }

  /** Load the session secret (shared by the replicas through Redis). */
  start(): Promise<void> {
    return this.sessions.start();
  }

  /** How long a sign-in link works, in minutes (for the chat message). */
  get linkMinutes(): number {
    return Math.round(CODE_TTL_MS / 60_000);
  }

  /** A new personal sign-in link; `next` is the gallery page it leads to (e.g. `/gallery?image=…`). */
  async signInLink(identity: ChatIdentity, o: { next?: string; ttlMs?: number } = {}): Promise<string> {
    const code = await this.codes.issue(identity, o.ttlMs);
    const next = o.next ? `&next=${encodeURIComponent(o.next)}` : '';
    return `${this.url('/gallery/signin')}?code=${code}${next}`;
  }

  /** An absolute URL of a gallery path, e.g. `/gallery?image=j1-0`. */
  url(path: string): string {
    return `${this.o.publicBase().replace(/\/+$/, '')}${path}`;
  }
}
