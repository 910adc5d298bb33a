/**
 * What the bot does with one inbound request: drop platform retries (idempotency by event id), parse the
 * command, answer help and bad input in the thread, and queue a valid generation with its status message.
 * Nothing is queued for a rejected command.
 */
import { randomInt } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { BotRequest, ChatAdapter } from '../chat/types.js';
import { formatCommandError, helpText, parseCommand, type CommandRules, type GenerateRequest } from '../commands/index.js';
import { normalizeLocale, t } from '../i18n/index.js';
import type { Logger } from '../infra/logger.js';
import { isRedisUnavailable } from '../infra/redis-health.js';
import type { Keys } from '../jobs/keys.js';
import type { Queues } from '../jobs/queues.js';
import { channelKindOf, type GenerateJobData, type GenerateParams, type JobOrigin } from '../jobs/types.js';
import type { PromptTokenizer } from '../model/prompt-tokenizer.js';
import type { ObservabilityHooks } from '../jobs/hooks.js';
import type { QuotaService } from '../quota/service.js';
import type { StatusStore } from '../status/status-store.js';
import { parseInvocation, type Invocation } from '../templates/invocation.js';
import type { TemplateLibrary } from '../templates/library.js';
import { prepareTemplate } from '../templates/prepare.js';
import { queueGeneration, type QueueOptions } from './queue-generation.js';
import type { Identity, Standing } from '../quota/service.js';
import { rateRefusal, type AdmissionInput } from '../quota/admission.js';
import type { BotSubcommands } from '../commands/subcommand.js';

/**
 * Platform retries arrive for hours (Lark re-pushes for about 7 h; Slack's last retry is 5 min after the
 * first); event ids are remembered for a day and more, and webhooks refuse requests older than that anyway.
 */
export const EVENT_TTL_S = 25 * 3600;
const QUOTE_MAX = 60;

export interface RouterDeps {
  redis: Redis;
  keys: Keys;
  queues: Queues;
  store: StatusStore;
  adapters: ReadonlyMap<string, ChatAdapter>;
  rules: CommandRules;
  tokenizer: () => Promise<PromptTokenizer>;
  maxTokens: number;
  defaultLocale: string;
  /** The configured language of a workspace (settings file `workspaceLocales`), if any. */
  workspaceLocale?: (platform: string, workspace: string) => string | undefined;
  subcommands: BotSubcommands;
  quota: QuotaService;
  hooks?: ObservabilityHooks;
  templates: TemplateLibrary;
  log: Logger;
}

export class RequestRouter {
  constructor(private readonly d: RouterDeps) {}

  /**
   * Load the tokenizer now, so a broken model directory is reported at start, and the quota zone's calendar
   * (the first date formatting in a zone loads its data: ~10 ms that the first request would otherwise pay).
   */
  async warmUp(): Promise<void> {
    await this.d.tokenizer();
    this.d.quota.warmUp();
  }

  /**
   * Handle one request; never throws for bad input (the user gets a reply instead). With Redis unreachable the
   * person is asked to try again in a minute (where the platform can answer without Redis); nothing was queued
   * or charged then (see submitGeneration).
   */
  async handle(req: BotRequest): Promise<void> {
    const adapter = this.d.adapters.get(req.platform);
    if (!adapter) throw new Error(`no adapter for platform ${req.platform}`);
    try {
      await this.handleWith(adapter, req);
    } catch (err) {
      if (!isRedisUnavailable(err)) throw err;
      this.d.log.debug({ eventId: req.eventId, platform: req.platform }, 'Redis unreachable: asked the person to try again');
      await adapter.reply(req.thread, t(this.localeOf(req), 'errors.UNAVAILABLE'))
        .catch((e: unknown) => this.d.log.debug({ err: e, eventId: req.eventId }, 'could not say so either'));
    }
  }

  private localeOf(req: BotRequest): string {
    return normalizeLocale(this.d.workspaceLocale?.(req.platform, req.workspace) ?? req.locale ?? this.d.defaultLocale);
  }

  private async handleWith(adapter: ChatAdapter, req: BotRequest): Promise<void> {
    const markKey = this.d.keys.event(`${req.platform}:${req.eventId}`);
    const id = { platform: req.platform, workspace: req.workspace, user: req.user };
    // Someone who asked within the last minute: their generation is admitted in one round trip, the
    // idempotency mark set by the same script that charges (see QuotaService.recent). Everyone else: the mark
    // and their quota standing travel together, and the command is parsed and its tokens counted while they
    // are on the way. Either way nothing is answered before the mark says this event is new.
    const recent = this.d.quota.recent(id);
    let fresh: Promise<{ fresh: boolean; count: number; freeAt: number }> | null = recent ? null : this.mark(id, markKey);
    let standing = recent ? null : this.standingOf(id);
    const locale = this.localeOf(req);
    const registry = this.d.subcommands.registry();
    const invocation = parseInvocation(req.text, (name) => this.d.templates.has(name) && !registry.has(name));
    const parsed = invocation || /(^|\s)--template\b/i.test(req.text) ? null : parseCommand(req.text, this.d.rules, registry);
    const tooLong = parsed?.kind === 'generate' ? await this.checkTokens(parsed.params.prompt, locale) : null;
    if (recent && parsed?.kind === 'generate' && !tooLong) {
      const outcome = await this.queue(req, adapter, locale, parsed.params, { recent: { standing: recent, mark: { key: markKey, ttlS: EVENT_TTL_S } } });
      if (outcome === 'duplicate') this.d.log.debug({ eventId: req.eventId, platform: req.platform }, 'duplicate event ignored');
      if (outcome !== 'stale') return;
      // A role or limit changed since: the long way, with a fresh standing.
    }
    fresh ??= this.mark(id, markKey);
    standing ??= this.standingOf(id);
    const marked = await fresh;
    if (!marked.fresh) {
      this.d.log.debug({ eventId: req.eventId, platform: req.platform }, 'duplicate event ignored');
      return;
    }
    // Every kind of command counts against the person's rate limit (a reply is a post on the platform too).
    const perMinute = (await standing).role.commandsPerMinute;
    if (perMinute !== null && marked.count > perMinute) {
      this.d.hooks?.quotaRefused(req.platform, 'rate_limited');
      const { reply } = rateRefusal(perMinute, marked.count, this.d.quota.secondsUntil(marked.freeAt), locale);
      if (reply) await adapter.reply(req.thread, reply);
      return;
    }
    if (!parsed) {
      await this.runTemplate(req, adapter, locale, invocation, standing);
      return;
    }
    if (parsed.kind === 'subcommand') {
      const handler = this.d.subcommands.get(parsed.name);
      if (handler) await handler.handle({ request: req, adapter, locale, rest: parsed.rest });
      return;
    }
    if (parsed.kind === 'help') {
      await adapter.reply(req.thread, helpText(locale, this.d.rules));
      return;
    }
    if (parsed.kind === 'error') {
      await adapter.reply(req.thread, formatCommandError(parsed.error, locale));
      return;
    }
    if (tooLong) {
      await adapter.reply(req.thread, tooLong);
      return;
    }
    await this.queue(req, adapter, locale, parsed.params, { standing });
  }

  /** `/zimage poster subject="…"` or `/zimage --template poster …`: render the preset, then queue it. */
  private async runTemplate(req: BotRequest, adapter: ChatAdapter, locale: string, inv: Invocation | null, standing: Promise<Standing>): Promise<void> {
    if (!inv) {
      await adapter.reply(req.thread, t(locale, 'templates.bad_args'));
      return;
    }
    const prepared = prepareTemplate(this.d.templates, inv, this.d.rules, locale);
    if (!prepared.ok) {
      await adapter.reply(req.thread, prepared.reply);
      return;
    }
    const tooLong = await this.checkTokens(prepared.params.prompt, locale);
    if (tooLong) {
      await adapter.reply(req.thread, tooLong);
      return;
    }
    await this.queue(req, adapter, locale, prepared.params, { template: prepared.template.name, extra: prepared.extra, standing });
  }

  private mark(id: Identity, key: string): Promise<{ fresh: boolean; count: number; freeAt: number }> {
    return this.d.quota.markEvent(id, key, EVENT_TTL_S);
  }

  private standingOf(id: Identity): Promise<Standing> {
    const standing = this.d.quota.standing(id);
    standing.catch(() => undefined); // unused for duplicates and subcommands; admission sees its error
    return standing;
  }

  /** Queue a generation (or reply why not); with a remembered standing, `stale` or `duplicate` when nothing was done. */
  private async queue(
    req: BotRequest, adapter: ChatAdapter, locale: string, request: GenerateRequest,
    opts: QueueOptions & { recent?: NonNullable<AdmissionInput['recent']> },
  ): Promise<'stale' | 'duplicate' | void> {
    // A mention inside a prompt reaches the model as the person's name, not as platform markup.
    const prompt = request.prompt.replace(/<@([A-Za-z0-9_.-]+)(?:\|([^>]*))?>/g, (_, id: string, name?: string) => `@${name || id}`);
    const params: GenerateParams = { ...request, prompt, seed: request.seed ?? randomInt(0, 2 ** 32) };
    const origin: JobOrigin = {
      platform: req.platform, workspace: req.workspace, channel: req.channel, channelKind: channelKindOf(req.channelKind), thread: req.thread,
      user: req.user, locale, eventId: req.eventId, ...(req.userName ? { userName: req.userName } : {}),
    };
    const outcome = opts.recent
      ? await queueGeneration({ ...this.d, adapter }, origin, params, { ...opts, recent: opts.recent })
      : await queueGeneration({ ...this.d, adapter }, origin, params, opts);
    if (!outcome.ok && 'skip' in outcome) return outcome.skip;
    if (!outcome.ok) {
      if (outcome.reply) await adapter.reply(req.thread, outcome.reply);
      return;
    }
    this.d.log.info({ jobId: outcome.jobId, user: req.user, platform: req.platform, eventId: req.eventId }, 'queued');
  }

  /** The model's token limit, checked before queueing: the reply quotes where the prompt gets cut. */
  private async checkTokens(prompt: string, locale: string): Promise<string | null> {
    const tokenizer = await this.d.tokenizer();
    const check = tokenizer.check(prompt, this.d.maxTokens);
    if (check.ok) return null;
    const tail = check.keptText.slice(-QUOTE_MAX);
    const cut = check.cutText.length > QUOTE_MAX ? `${check.cutText.slice(0, QUOTE_MAX)}…` : check.cutText;
    return t(locale, 'errors.PROMPT_TOO_MANY_TOKENS', { tokens: check.tokens, max: check.maxTokens, kept: tail, cut });
  }
}
