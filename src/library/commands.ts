/**
 * The library in chat: `/zimage gallery` (a personal sign-in link to the gallery), `/zimage history [words]`
 * (my last 10 images, or those whose prompt has the words) and `/zimage find <words>` (the images I may see
 * that match). The answers are private — they carry a sign-in link, and prompts of DMs and private channels —
 * so they go through the adapter's `replyPrivately` (Slack: ephemeral, Lark: a direct message, Playground:
 * shown to that browser session only); without it, only a direct message with the bot is answered.
 */
import type { SubcommandContext, SubcommandHandler } from '../commands/subcommand.js';
import { isZimageError } from '../errors.js';
import { t } from '../i18n/index.js';
import type { ImageRecord } from './image-row.js';
import type { ImageFilter, ImagePage, PageRequest } from './queries.js';
import { MAX_SEARCH_CHARS } from './search.js';
import type { Viewer } from './visibility.js';

export interface LibraryCommandDeps {
  library: {
    list(viewer: Viewer, filter?: ImageFilter, page?: PageRequest): Promise<ImagePage>;
    count(viewer: Viewer, filter?: ImageFilter): Promise<number>;
  };
  gallery: {
    signInLink(identity: { platform: string; workspace: string; user: string; userName?: string }, o?: { next?: string }): Promise<string>;
    url(path: string): string;
    readonly linkMinutes: number;
  };
  /** The asker's Viewer (identity and role). */
  viewerOf(request: { platform: string; workspace: string; user: string }): Promise<Viewer>;
  timezone: () => string;
}

const SHOWN = 10;
const PROMPT_MAX = 80;
const WORDS_MAX = 60;

const clip = (s: string, n: number): string => ([...s].length > n ? `${[...s].slice(0, n - 1).join('')}…` : s);

/** `2026-11-25 09:00` in the team's time zone. */
function when(iso: string, tz: string): string {
  const p = Object.fromEntries(new Intl.DateTimeFormat('en-CA', {
    timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
  }).formatToParts(new Date(iso)).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
}

function where(r: ImageRecord, locale: string): string {
  return t(locale, `library.where_${r.channelKind}`, { channel: r.channel });
}

export function libraryCommands(d: LibraryCommandDeps): SubcommandHandler[] {
  /** Answer only the asker (see the module comment); a direct message elsewhere is announced in the thread. */
  const privately = async (ctx: SubcommandContext, text: string): Promise<void> => {
    const { adapter, request } = ctx;
    if (!adapter.replyPrivately) {
      await adapter.reply(request.thread, request.channelKind === 'dm' ? text : t(ctx.locale, 'library.private_unavailable'));
      return;
    }
    if ((await adapter.replyPrivately(request, text)) === 'direct') await adapter.reply(request.thread, t(ctx.locale, 'library.sent_direct'));
  };

  const identityOf = (ctx: SubcommandContext) => {
    const r = ctx.request;
    return { platform: r.platform, workspace: r.workspace, user: r.user, ...(r.userName ? { userName: r.userName } : {}) };
  };

  /** Up to 10 images of a filter as lines with gallery links, the gallery link to all of them, and a sign-in link. */
  const listing = async (ctx: SubcommandContext, filter: ImageFilter, titles: { title: string; none: string }, words: string): Promise<void> => {
    const L = ctx.locale;
    const shownWords = clip(words, WORDS_MAX);
    let page: ImagePage;
    let total: number;
    try {
      const viewer = await d.viewerOf(ctx.request);
      [page, total] = await Promise.all([d.library.list(viewer, filter, { limit: SHOWN }), d.library.count(viewer, filter)]);
    } catch (err) {
      if (!isZimageError(err) || !['LIBRARY_UNAVAILABLE', 'DATABASE_UNAVAILABLE'].includes(err.code)) throw err;
      return privately(ctx, t(L, 'library.LIBRARY_UNAVAILABLE'));
    }
    if (page.images.length === 0) return privately(ctx, t(L, titles.none, { words: shownWords }));
    const tz = d.timezone();
    const lines = page.images.map((r) => t(L, 'library.line', {
      when: when(r.createdAt, tz), where: where(r, L), prompt: clip(r.prompt.replace(/\s+/g, ' '), PROMPT_MAX),
      url: d.gallery.url(`/gallery?image=${encodeURIComponent(r.id)}`),
    }));
    const query = new URLSearchParams({ ...(filter.person ? { person: filter.person } : {}), ...(words ? { q: words.slice(0, MAX_SEARCH_CHARS) } : {}) });
    const all = `/gallery${query.size > 0 ? `?${query}` : ''}`;
    const signIn = await d.gallery.signInLink(identityOf(ctx), { next: all });
    await privately(ctx, [
      t(L, titles.title, { shown: page.images.length, total, words: shownWords }), ...lines, '',
      t(L, 'library.more', { url: d.gallery.url(all) }),
      t(L, 'library.sign_in_hint', { minutes: d.gallery.linkMinutes, url: signIn }),
    ].join('\n'));
  };

  const gallery: SubcommandHandler = {
    name: 'gallery',
    private: true,
    aliases: ['图库'],
    async handle(ctx) {
      const url = await d.gallery.signInLink(identityOf(ctx));
      await privately(ctx, t(ctx.locale, 'gallery.sign_in_link', { minutes: d.gallery.linkMinutes, url }));
    },
  };

  const history: SubcommandHandler = {
    name: 'history',
    private: true,
    async handle(ctx) {
      const words = ctx.rest.trim();
      const filter: ImageFilter = { person: ctx.request.user, ...(words ? { search: words } : {}) };
      await listing(ctx, filter, words
        ? { title: 'library.history_title_search', none: 'library.history_none_search' }
        : { title: 'library.history_title', none: 'library.history_none' }, words);
    },
  };

  const find: SubcommandHandler = {
    name: 'find',
    private: true,
    aliases: ['查找'],
    async handle(ctx) {
      const words = ctx.rest.trim();
      if (!words) return privately(ctx, t(ctx.locale, 'library.find_usage', { max: MAX_SEARCH_CHARS }));
      await listing(ctx, { search: words }, { title: 'library.find_title', none: 'library.find_none' }, words);
    },
  };

  return [gallery, history, find];
}
