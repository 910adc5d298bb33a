/**
 * "Generate again" from the gallery: the same prompt, seed, size and steps, queued for the person who
 * asks and charged to them — through the same admission and queue as a chat command (queueGeneration), so
 * roles, quotas, fair share and the per-minute command limit all apply. Where the result goes: a new thread
 * in the person's direct messages with the bot (Slack, Lark), or a new Playground thread (wiring decides:
 * `placeFor`). An `idempotency-key` header makes a repeated click a no-op.
 */
import { randomUUID } from 'node:crypto';
import { queueGeneration } from '../bot/queue-generation.js';
import type { SubmitDeps } from '../bot/submit.js';
import { EVENT_TTL_S } from '../bot/request-router.js';
import { rateRefusal } from '../bot/admission.js';
import type { ChatAdapter } from '../chat/types.js';
import { errorBody, headerOf, type HttpServer } from '../http/server.js';
import { t } from '../i18n/index.js';
import type { ChannelKind, GenerateParams, JobOrigin } from '../jobs/types.js';
import type { ImageLibrary } from '../library/library.js';
import type { ObservabilityHooks } from '../observability/hooks.js';
import type { QuotaService } from '../quota/service.js';
import type { GalleryContext } from './context.js';

export interface AgainDeps extends Omit<SubmitDeps, 'adapter'> {
  quota: QuotaService;
  hooks?: ObservabilityHooks;
  adapters: ReadonlyMap<string, ChatAdapter>;
  library: ImageLibrary;
  /** The channel a person's re-run is posted in (their DMs with the bot, or the Playground's channel) and its kind. */
  placeFor: (who: { platform: string; workspace: string; user: string }) => { channel: string; channelKind: ChannelKind };
}

const TITLE_PROMPT_MAX = 120;

export function registerAgainRoute(http: HttpServer, ctx: GalleryContext, d: AgainDeps): void {
  http.app.post<{ Params: { id: string } }>('/api/gallery/images/:id/again', (req, reply) => ctx.changing(req, reply, async (a) => {
    const L = a.locale;
    const who = a.session.identity;
    const adapter = d.adapters.get(who.platform);
    if (!adapter?.startThread) return reply.code(409).send(errorBody('AGAIN_UNAVAILABLE', t(L, 'gallery.again_unavailable')));
    const image = await d.library.get(a.viewer, req.params.id);
    // Counted like a command (idempotency mark and the per-minute limit), before anything is posted.
    const key = (headerOf(req, 'idempotency-key') ?? '').replace(/[^\w-]/g, '').slice(0, 64) || randomUUID();
    const eventId = `gallery:${a.session.id}:${key}`;
    const [marked, standing] = await Promise.all([d.quota.markEvent(who, d.keys.event(`${who.platform}:${eventId}`), EVENT_TTL_S), d.quota.standing(who)]);
    if (!marked.fresh) return reply.code(409).send(errorBody('DUPLICATE', 'this request was made already'));
    const perMinute = standing.role.commandsPerMinute;
    if (perMinute !== null && marked.count > perMinute) {
      const { reply: text } = rateRefusal(perMinute, marked.count, d.quota.secondsUntil(marked.freeAt), L);
      return reply.code(429).send(errorBody('RATE_LIMITED', text || t(L, 'quota.rate_limited', { max: perMinute, seconds: d.quota.secondsUntil(marked.freeAt) })));
    }
    const place = d.placeFor(who);
    const clipped = [...image.prompt].length > TITLE_PROMPT_MAX ? `${[...image.prompt].slice(0, TITLE_PROMPT_MAX - 1).join('')}…` : image.prompt;
    const thread = await adapter.startThread(who.workspace, place.channel, t(L, 'gallery.again_title', { prompt: clipped }));
    const origin: JobOrigin = {
      platform: who.platform, workspace: who.workspace, channel: place.channel, channelKind: place.channelKind, thread, user: who.user,
      locale: L, eventId, ...(who.userName ? { userName: who.userName } : {}),
    };
    const params: GenerateParams = { prompt: image.prompt, seed: image.seed, width: image.width, height: image.height, steps: image.steps, count: 1 };
    const template = image.template;
    const outcome = await queueGeneration({ ...d, adapter }, origin, params, {
      standing: Promise.resolve(standing),
      ...(template ? { template: template.id, ...(template.version ? { extra: { template: { id: template.id, version: template.version } } } : {}) } : {}),
    });
    if (!outcome.ok) {
      // Said in the new thread too, where the person looks for the image.
      await adapter.reply(thread, outcome.reply).catch(() => undefined);
      return reply.code(409).send(errorBody('REFUSED', outcome.reply));
    }
    d.log.info({ jobId: outcome.jobId, from: image.id, user: who.user, platform: who.platform }, 'queued again from the gallery');
    return { ok: true, jobId: outcome.jobId, message: t(L, place.channelKind === 'playground' ? 'gallery.again_queued_playground' : 'gallery.again_queued_dm') };
  }));
}
