/**
 * One path for a command: dedupe → one grammar for every form → admission → enqueue.
 *
 * Every inbound request (Slack, Lark, the Playground) comes here after its adapter has acknowledged it. It is
 * routed off the request's critical path (work-queue.ts), its event is marked so a platform retry does
 * nothing and counted against the person's rate limit (the admission ticket, which also hides how a
 * generation is admitted in a single round trip for someone who asked a minute ago), then parsed once
 * (grammar.ts) and answered: help, a bad input explained, a subcommand, or a generation queued through the
 * job lifecycle. Never throws for bad input; with Redis unreachable the person is asked to try again.
 */
import type { BotRequest, ChatAdapter } from '../chat/types.js';
import { formatCommandError, helpText, type CommandRules, type GenerateRequest } from '../commands/index.js';
import type { BotSubcommands } from '../commands/subcommand.js';
import { normalizeLocale, t } from '../i18n/index.js';
import type { Logger } from '../infra/logger.js';
import { randomHex } from '../infra/random-ids.js';
import { isRedisUnavailable } from '../infra/redis-health.js';
import type { ObservabilityHooks } from '../jobs/hooks.js';
import type { Keys } from '../jobs/keys.js';
import type { JobLifecycle } from '../jobs/lifecycle.js';
import type { PromptTokenizer } from '../model/prompt-tokenizer.js';
import { Ticket, type Refusal } from '../quota/admission.js';
import type { QuotaService } from '../quota/service.js';
import type { TemplateLibrary } from '../templates/library.js';
import { prepareTemplate } from '../templates/prepare.js';
import type { GenerateJobData } from '../jobs/types.js';
import { parseRequest } from './grammar.js';
import { originOf, settle } from './origin.js';
import { WorkQueue } from './work-queue.js';

/**
 * Platform retries arrive for hours (Lark re-pushes for about 7 h; Slack's last retry is 5 min after the
 * first); event ids are remembered for a day and more, and webhooks refuse requests older than that anyway.
 */
export const EVENT_TTL_S = 25 * 3600;
const QUOTE_MAX = 60;
/** Requests routed at once (each mostly waits on Redis; more only queue up inside Redis). */
const ROUTING_CONCURRENCY = 64;

export interface IntakeDeps {
  keys: Keys;
  adapters: ReadonlyMap<string, ChatAdapter>;
  lifecycle: JobLifecycle;
  quota: QuotaService;
  templates: TemplateLibrary;
  subcommands: BotSubcommands;
  /** The grammar's rules and limits, read when a request is parsed (they follow the settings file). */
  rules: () => CommandRules;
  tokenizer: () => Promise<PromptTokenizer>;
  /** The model's token limit, read when a prompt is checked. */
  maxTokens: () => number;
  /** The reply language for a request: its workspace's setting, else what the platform said, else the bot's. */
  localeOf: (req: Pick<BotRequest, 'platform' | 'workspace' | 'locale'>) => string;
  /** Resolves when routing may start: once the requests waiting for an answer have it (HttpServer.answered). */
  answered?: () => Promise<void>;
  hooks?: ObservabilityHooks;
  log: Logger;
}

interface Routing { req: BotRequest; adapter: ChatAdapter; locale: string; ticket: Ticket }

export class Intake {
  private readonly work: WorkQueue;

  constructor(private readonly d: IntakeDeps) {
    this.work = new WorkQueue(ROUTING_CONCURRENCY, d.answered);
  }

  /**
   * Load the tokenizer now, so a broken model directory is reported at start, and the quota zone's calendar
   * (the first date formatting in a zone loads its data: ~10 ms that the first request would otherwise pay).
   */
  async warmUp(): Promise<void> {
    await this.d.tokenizer();
    this.d.quota.warmUp();
  }

  /** Handle one request (after its adapter acknowledged it): resolves once it was answered or queued. */
  handle(req: BotRequest): Promise<void> {
    return this.work.run(() => this.route(req));
  }

  private async route(req: BotRequest): Promise<void> {
    const adapter = this.d.adapters.get(req.platform);
    if (!adapter) throw new Error(`no adapter for platform ${req.platform}`);
    const locale = normalizeLocale(this.d.localeOf(req));
    try {
      const id = { platform: req.platform, workspace: req.workspace, user: req.user };
      const ticket = new Ticket(this.d.quota, id, { key: this.d.keys.event(`${req.platform}:${req.eventId}`), ttlS: EVENT_TTL_S });
      await this.answer({ req, adapter, locale, ticket });
    } catch (err) {
      // Never silence: the person is told, in plain words; the detail goes to the log under a reference.
      let text: string;
      if (isRedisUnavailable(err)) {
        this.d.log.debug({ eventId: req.eventId, platform: req.platform }, 'Redis unreachable: asked the person to try again');
        text = t(locale, 'errors.UNAVAILABLE');
      } else {
        const ref = randomHex(4);
        this.d.log.error({ err, ref, eventId: req.eventId, platform: req.platform, user: req.user }, 'routing a request failed');
        text = t(locale, 'failure.with_reference', { reason: t(locale, 'errors.INTERNAL'), ref });
      }
      await adapter.reply(req.thread, text)
        .catch((e: unknown) => this.d.log.warn({ err: e, eventId: req.eventId }, 'could not say so either'));
    }
  }

  private async answer(r: Routing): Promise<void> {
    const parsed = parseRequest(r.req.text, {
      rules: this.d.rules(), registry: this.d.subcommands.registry(), isTemplate: (name) => this.d.templates.has(name),
    });
    if (parsed.kind === 'generate') return this.generate(r, parsed.request, {});
    if (parsed.kind === 'template') {
      const prepared = prepareTemplate(this.d.templates, parsed.invocation, this.d.rules(), r.locale);
      if (!prepared.ok) return this.say(r, prepared.reply);
      return this.generate(r, prepared.params, { template: prepared.template.name, extra: prepared.extra });
    }
    const consumed = await r.ticket.consume(r.locale);
    if (!consumed.ok) return this.refused(r, consumed);
    switch (parsed.kind) {
      case 'template_bad_args': return this.reply(r, t(r.locale, 'templates.bad_args'));
      case 'help': return this.reply(r, helpText(r.locale, this.d.rules()));
      case 'error': return this.reply(r, formatCommandError(parsed.error, r.locale));
      case 'subcommand': {
        const handler = this.d.subcommands.get(parsed.name);
        if (handler) await handler.handle({ request: r.req, adapter: r.adapter, locale: r.locale, rest: parsed.rest });
      }
    }
  }

  /** A reply to a request whose event is not known yet to be new: the ticket first (a retry says nothing). */
  private async say(r: Routing, text: string): Promise<void> {
    const consumed = await r.ticket.consume(r.locale);
    if (!consumed.ok) return this.refused(r, consumed);
    await this.reply(r, text);
  }

  private async reply(r: Routing, text: string): Promise<void> {
    await r.adapter.reply(r.req.thread, text);
  }

  private async refused(r: Routing, why: Refusal | { ok: false; duplicate: true }): Promise<void> {
    if ('duplicate' in why) {
      this.d.log.debug({ eventId: r.req.eventId, platform: r.req.platform }, 'duplicate event ignored');
      return;
    }
    this.d.hooks?.quotaRefused(r.req.platform, why.reason);
    if (why.reply) await this.reply(r, why.reply);
  }

  /** A generation: the token limit, then admission (rate, role, quota), then the lifecycle queues it. */
  private async generate(r: Routing, request: GenerateRequest, o: { template?: string; extra?: Pick<GenerateJobData, 'template' | 'post'> }): Promise<void> {
    const tooLong = await this.checkTokens(request.prompt, r.locale);
    if (tooLong) return this.say(r, tooLong);
    const params = settle(request);
    const admission = await r.ticket.charge({ params, channel: r.req.channel, locale: r.locale, ...(o.template ? { template: o.template } : {}) });
    if (!admission.ok) return this.refused(r, admission);
    const origin = originOf(r.req, { locale: r.locale, eventId: r.req.eventId });
    const { jobId } = await this.d.lifecycle.submit(origin, params, {
      jobId: admission.jobId, weight: admission.weight, rank: admission.rank, charge: admission.charge, ...(o.extra ? { extra: o.extra } : {}),
    });
    this.d.log.info({ jobId, user: r.req.user, platform: r.req.platform, eventId: r.req.eventId }, 'queued');
  }

  /** The model's token limit, checked before queueing: the reply quotes where the prompt gets cut. */
  private async checkTokens(prompt: string, locale: string): Promise<string | null> {
    const tokenizer = await this.d.tokenizer();
    if (tokenizer.surelyFits(prompt, this.d.maxTokens())) return null;
    const check = tokenizer.check(prompt, this.d.maxTokens());
    if (check.ok) return null;
    const tail = check.keptText.slice(-QUOTE_MAX);
    const cut = check.cutText.length > QUOTE_MAX ? `${check.cutText.slice(0, QUOTE_MAX)}…` : check.cutText;
    return t(locale, 'errors.PROMPT_TOO_MANY_TOKENS', { tokens: check.tokens, max: check.maxTokens, kept: tail, cut });
  }
}
