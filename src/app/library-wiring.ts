/**
 * The image library's faces, composed for the bot: the gallery (pages, API, sign-in, its asset gate), the
 * chat commands `gallery`, `history`, `find`, the usage chart after `/zimage usage`, and scheduled usage
 * reports. The only place that knows which platform links where ("show in chat") and where a re-run from the
 * gallery is posted (the person's DMs with the bot; the Playground's channel).
 */
import type { Redis } from 'ioredis';
import { larkChatLink } from '../../adapters/lark/links.js';
import { larkConfigured, readLarkSettings } from '../../adapters/lark/lark-settings.js';
import { CHANNEL as PLAYGROUND_CHANNEL, PLATFORM as PLAYGROUND } from '../../adapters/playground/routes.js';
import { slackChatLink } from '../../adapters/slack/links.js';
import type { SubcommandContext, SubcommandHandler } from '../commands/subcommand.js';
import type { ChatAdapter } from '../chat/types.js';
import type { Config } from '../config.js';
import type { ChatLink } from '../gallery/chat-links.js';
import { Gallery } from '../gallery/gallery.js';
import { publicBase } from '../http/public-base.js';
import type { HttpServer } from '../http/server.js';
import { t } from '../i18n/index.js';
import type { Logger } from '../infra/logger.js';
import type { Keys } from '../jobs/keys.js';
import type { JobLifecycle } from '../jobs/lifecycle.js';
import { libraryCommands } from '../library/commands.js';
import type { AuditSink } from '../library/holds.js';
import type { ImageLibrary } from '../library/library.js';
import { postUsageChart, postUsageReport, windowRange } from '../library/usage-report.js';
import { canReadUsage } from '../library/visibility.js';
import type { ObservabilityHooks } from '../jobs/hooks.js';
import type { QuotaService } from '../quota/service.js';
import type { Period } from '../quota/windows.js';
import type { ScheduleDef } from '../schedules/store.js';
import type { StatusStore } from '../jobs/status-store.js';

export interface LibraryWiringDeps {
  config: Config;
  http: HttpServer;
  redis: Redis;
  keys: Keys;
  store: StatusStore;
  lifecycle: JobLifecycle;
  library: ImageLibrary;
  quota: QuotaService;
  audit: AuditSink;
  adapters: ReadonlyMap<string, ChatAdapter>;
  hooks?: ObservabilityHooks;
  workspaceLocale: (platform: string, workspace: string) => string | undefined;
  /** The bot's language (settings `locale`, else LOCALE), read when needed. */
  defaultLocale: () => string;
  log: Logger;
}

export interface LibraryWiring {
  gallery: Gallery;
  commands: SubcommandHandler[];
  afterUsage: (ctx: SubcommandContext, period: Period) => Promise<void>;
  usageReport: (def: ScheduleDef, thread: string, adapter: ChatAdapter) => Promise<void>;
}

function chatLinks(d: LibraryWiringDeps): Map<string, ChatLink> {
  const links = new Map<string, ChatLink>([['slack', slackChatLink]]);
  if (larkConfigured(d.config)) links.set('lark', larkChatLink(readLarkSettings(d.config).domain));
  // The Playground is one page; whoever may open it finds the thread there.
  if (d.adapters.has(PLAYGROUND)) links.set(PLAYGROUND, () => '/');
  return links;
}

export function wireLibrary(d: LibraryWiringDeps): LibraryWiring {
  const env = d.config.env;
  const log = d.log.child({ component: 'library' });
  const gallery = new Gallery({
    http: d.http, redis: d.redis, keys: d.keys, lifecycle: d.lifecycle, library: d.library, quota: d.quota, audit: d.audit,
    adapters: d.adapters, ...(d.hooks ? { hooks: d.hooks } : {}), log: d.log, chatLinks: chatLinks(d),
    threadOf: async (jobId) => (await d.store.get(jobId))?.thread,
    placeFor: (who) => (who.platform === PLAYGROUND ? { channel: PLAYGROUND_CHANNEL, channelKind: 'playground' } : { channel: who.user, channelKind: 'dm' }),
    publicBase: () => publicBase(env.PUBLIC_URL, d.http.addresses()), ...(env.PUBLIC_URL ? { publicUrl: env.PUBLIC_URL } : {}),
    workspaceLocale: d.workspaceLocale, defaultLocale: d.defaultLocale,
  });
  const commands = libraryCommands({
    library: d.library, gallery, viewerOf: (r) => gallery.viewers.of(r), timezone: () => d.quota.timezone,
  });
  const afterUsage = async (ctx: SubcommandContext, period: Period): Promise<void> => {
    const viewer = await gallery.viewers.of(ctx.request);
    await postUsageChart(d.library, log, {
      adapter: ctx.adapter, thread: ctx.request.thread, viewer, range: windowRange(period, d.quota.timezone, Date.now()), locale: ctx.locale,
      title: t(ctx.locale, 'library.chart_file_title', { period: t(ctx.locale, `quota.period_${period}`) }),
    });
  };
  const usageReport = async (def: ScheduleDef, thread: string, adapter: ChatAdapter): Promise<void> => {
    // The owner's role now: a report of the whole workspace is a manager's.
    const role = await d.quota.roleOf({ platform: def.platform, workspace: def.workspace, user: def.owner });
    const viewer = { platform: def.platform, workspace: def.workspace, user: def.owner, manager: role.manager, audit: role.audit };
    if (!canReadUsage(viewer)) {
      await adapter.reply(thread, t(def.locale, 'library.report_not_manager', { owner: def.ownerName ?? def.owner, id: def.id }));
      return;
    }
    await postUsageReport(d.library, log, { adapter, thread, viewer, range: windowRange(def.usage?.period ?? 'week', def.tz, Date.now(), true), locale: def.locale });
  };
  return { gallery, commands, afterUsage, usageReport };
}
