/**
 * Which chat adapters this bot runs, from configuration. The only place that knows every adapter:
 * the Playground is on by default; Slack and Lark join when their credentials are set.
 */
import type { Redis } from 'ioredis';
import { LarkAdapter } from '../../adapters/lark/lark-adapter.js';
import { larkConfigured, readLarkSettings } from '../../adapters/lark/lark-settings.js';
import { PlaygroundAdapter } from '../../adapters/playground/playground-adapter.js';
import { SlackAdapter } from '../../adapters/slack/slack-adapter.js';
import type { ChatAdapter } from '../chat/types.js';
import { DEFAULT_COMMAND_RULES } from '../commands/index.js';
import { slackMode, type Config } from '../config.js';
import type { HttpServer } from '../http/server.js';
import { createRedis } from '../infra/redis.js';
import type { Logger } from '../infra/logger.js';

export interface AdapterContext {
  config: Config;
  http: HttpServer;
  redis: Redis;
  redisUrl: string;
  prefix: string;
  log: Logger;
}

export interface BuiltAdapters {
  adapters: ChatAdapter[];
  /** Extra connections the adapters own (closed on shutdown). */
  connections: Redis[];
}

export function buildAdapters(ctx: AdapterContext): BuiltAdapters {
  const adapters: ChatAdapter[] = [];
  const connections: Redis[] = [];
  if (ctx.config.env.PLAYGROUND) {
    const subscriber = createRedis(ctx.redisUrl, 'zimage-playground-sub');
    connections.push(subscriber);
    adapters.push(new PlaygroundAdapter({ http: ctx.http, redis: ctx.redis, subscriber, prefix: ctx.prefix, log: ctx.log.child({ adapter: 'playground' }) }));
  }
  const env = ctx.config.env;
  if (env.SLACK_BOT_TOKEN) {
    const { settings, defaults } = ctx.config;
    const fallback = settings.locale ?? env.LOCALE;
    adapters.push(new SlackAdapter({
      botToken: env.SLACK_BOT_TOKEN, mode: slackMode(env), appToken: env.SLACK_APP_TOKEN, signingSecret: env.SLACK_SIGNING_SECRET,
      apiUrl: env.SLACK_API_URL, http: ctx.http, redis: ctx.redis, prefix: ctx.prefix, log: ctx.log.child({ adapter: 'slack' }),
      modal: { ...defaults, maxSteps: DEFAULT_COMMAND_RULES.limits.maxSteps, maxCount: settings.generation.maxCount },
      localeFor: (team) => settings.workspaceLocales[`slack:${team}`] ?? fallback,
    }));
  }
  if (larkConfigured(ctx.config)) {
    adapters.push(new LarkAdapter({
      settings: readLarkSettings(ctx.config), http: ctx.http, redis: ctx.redis, prefix: ctx.prefix, log: ctx.log.child({ adapter: 'lark' }),
    }));
  }
  return { adapters, connections };
}
