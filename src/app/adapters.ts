/**
 * Which chat adapters this bot runs, from configuration. The only place that knows every adapter:
 * the Playground is on by default; Slack and Lark join when their credentials are set. Each goes to the
 * core behind the reply retry (src/chat/retrying-adapter.ts): the adapters themselves never retry.
 * Slack's and Lark's modules (and their SDKs, a few hundred milliseconds of start-up between them) load
 * only when they are configured.
 */
import type { Redis } from 'ioredis';
import { larkConfigured, readLarkSettings } from '../../adapters/lark/lark-settings.js';
import { PlaygroundAdapter } from '../../adapters/playground/playground-adapter.js';
import { ReplyRetry } from '../chat/reply-retry.js';
import { withReplyRetry } from '../chat/retrying-adapter.js';
import type { ChatAdapter } from '../chat/types.js';
import { playgroundAccess, playgroundEnabled, slackMode, type Config, type FileConfig } from '../config.js';
import { commandRules } from './command-rules.js';
import type { AssetGate } from '../http/asset-routes.js';
import type { HttpServer } from '../http/server.js';
import { createRedis } from '../infra/redis.js';
import type { RedisWatch } from '../infra/redis-health.js';
import type { Logger } from '../infra/logger.js';
import type { RateLimitedOperation } from '../jobs/hooks.js';

export interface AdapterContext {
  config: Config;
  /** The settings file as it is now (hot-reloaded): adapters read it when they need a value. */
  settings: () => Readonly<FileConfig>;
  http: HttpServer;
  redis: Redis;
  redisUrl: string;
  redisWatch?: RedisWatch;
  prefix: string;
  log: Logger;
  /** A platform throttled a reply or a new thread (the metric zimage_platform_rate_limited_total). */
  onRateLimited?: (platform: string, operation: RateLimitedOperation) => void;
}

export interface BuiltAdapters {
  adapters: ChatAdapter[];
  /** Who may fetch which stored image over HTTP (an image is served when one of these says yes). */
  assetGates: AssetGate[];
  /** Extra connections the adapters own (closed on shutdown). */
  connections: Redis[];
  /** The Playground, when it runs (its access mode and token go into the start line). */
  playground?: PlaygroundAdapter;
  /** Slack and Lark, as configured: their modules load when this is called (the bot's start). */
  platforms: () => Promise<ChatAdapter[]>;
}

export function buildAdapters(ctx: AdapterContext): BuiltAdapters {
  const adapters: ChatAdapter[] = [];
  const connections: Redis[] = [];
  const assetGates: AssetGate[] = [];
  let playground: PlaygroundAdapter | undefined;
  const env = ctx.config.env;
  const replies = new ReplyRetry({ log: ctx.log.child({ component: 'reply-retry' }), onRateLimited: (platform) => ctx.onRateLimited?.(platform, 'reply') });
  if (playgroundEnabled(env)) {
    const subscriber = createRedis(ctx.redisUrl, 'zimage-playground-sub', ctx.redisWatch ? { watch: ctx.redisWatch } : {});
    connections.push(subscriber);
    playground = new PlaygroundAdapter({
      http: ctx.http, redis: ctx.redis, subscriber, prefix: ctx.prefix, log: ctx.log.child({ adapter: 'playground' }),
      access: {
        mode: playgroundAccess(env), ...(env.PLAYGROUND_TOKEN ? { token: env.PLAYGROUND_TOKEN } : {}),
        secureCookies: env.PUBLIC_URL?.startsWith('https:') ?? false,
      },
      streams: {
        maxClients: env.PLAYGROUND_MAX_STREAMS, maxPerAddress: env.PLAYGROUND_MAX_STREAMS_PER_ADDRESS,
        maxBufferedBytes: env.PLAYGROUND_STREAM_BUFFER_BYTES, keepAliveMs: 15_000,
      },
      history: { maxMessages: env.PLAYGROUND_HISTORY_MAX, maxAgeMs: env.PLAYGROUND_HISTORY_DAYS * 24 * 3600_000 },
    });
    adapters.push(playground);
    const pg = playground;
    assetGates.push((req, metadata) => pg.canSeeImage(req, metadata));
  }
  const settings = ctx.settings;
  // Read now: a broken Lark setting fails the bot's construction, as any other setting does.
  const lark = larkConfigured(ctx.config) ? readLarkSettings(ctx.config, settings) : null;
  const platforms = async (): Promise<ChatAdapter[]> => {
    const more: ChatAdapter[] = [];
    if (env.SLACK_BOT_TOKEN) {
      const { SlackAdapter } = await import('../../adapters/slack/slack-adapter.js');
      more.push(new SlackAdapter({
        botToken: env.SLACK_BOT_TOKEN, mode: slackMode(env), appToken: env.SLACK_APP_TOKEN, signingSecret: env.SLACK_SIGNING_SECRET,
        apiUrl: env.SLACK_API_URL, http: ctx.http, redis: ctx.redis, prefix: ctx.prefix, log: ctx.log.child({ adapter: 'slack' }),
        modal: () => {
          const rules = commandRules(settings());
          return { ...rules.defaults, maxSteps: rules.limits.maxSteps, maxCount: rules.limits.maxCount };
        },
        localeFor: (team) => settings().workspaceLocales[`slack:${team}`] ?? settings().locale ?? env.LOCALE,
        // The thread parent of a slash command is a post like a reply: the same one retry.
        replyRetry: replies,
      }));
    }
    if (lark) {
      const { LarkAdapter } = await import('../../adapters/lark/lark-adapter.js');
      more.push(new LarkAdapter({ settings: lark, http: ctx.http, log: ctx.log.child({ adapter: 'lark' }) }));
    }
    return more.map((a) => withReplyRetry(a, replies));
  };
  return { adapters: adapters.map((a) => withReplyRetry(a, replies)), connections, assetGates, platforms, ...(playground ? { playground } : {}) };
}
