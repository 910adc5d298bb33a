/**
 * "Generate again" from the gallery: the same prompt, seed, size and steps, queued for the person who
 * asks and charged to them — admitted like a chat command (a Ticket: the idempotency mark, the per-minute
 * limit, role limits and quota) and queued through the job lifecycle, so fair share and refunds hold too.
 * A refusal is the answer and nothing is posted. Where the result goes: a new thread in the person's direct
 * messages with the bot (Slack, Lark), or a new Playground thread (the wiring decides: `placeFor`). An
 * `idempotency-key` header makes a repeated click a no-op.
 */
import { randomUUID } from 'node:crypto';
import type { ChatAdapter } from '../chat/types.js';
import { errorBody, headerOf, type HttpServer } from '../http/server.js';
import { t } from '../i18n/index.js';
import type { Logger } from '../infra/logger.js';
import { originOf } from '../intake/origin.js';
import { EVENT_TTL_S } from '../intake/pipeline.js';
import type { ObservabilityHooks } from '../jobs/hooks.js';
import type { Keys } from '../jobs/keys.js';
import type { JobLifecycle } from '../jobs/lifecycle.js';
import type { ChannelKind, GenerateParams } from '../jobs/types.js';
import type { ImageLibrary } from '../library/library.js';
import { Ticket } from '../quota/admission.js';
import type { QuotaService } from '../quota/service.js';
import type { GalleryContext } from './context.js';

export interface AgainDeps {
  keys: Keys;
  quota: QuotaService;
  lifecycle: JobLifecycle;
  hooks?: ObservabilityHooks;
  adapters: ReadonlyMap<string, ChatAdapter>;
  library: ImageLibrary;
  /** The channel a person's re-run is posted in (their DMs with the bot, or the Playground's channel) and its kind. */
  placeFor: (who: { platform: string; workspace: string; user: string }) => { channel: string; channelKind: ChannelKind };
  log: Logger;
}

const TITLE_PROMPT_MAX = 120;

export function registerAgainRoute(http: HttpServer, ctx: GalleryContext, d: AgainDeps): void {
  http.app.post<{ Params: { id: string } }>('/api/gallery/images/:id/again', (req, reply) => ctx.changing(req, reply, async (a) => {
    const L = a.locale;
    const who = a.session.identity;
    const adapter = d.adapters.get(who.platform);
    if (!adapter?.startThread) return reply.code(409).send(errorBody('AGAIN_UNAVAILABLE', t(L, 'gallery.again_unavailable')));
    const image = await d.library.get(a.viewer, req.params.id);
    const key = (headerOf(req, 'idempotency-key') ?? '').replace(/[^\w-]/g, '').slice(0, 64) || randomUUID();
    const eventId = `gallery:${a.session.id}:${key}`;
    const params: GenerateParams = { prompt: image.prompt, seed: image.seed, width: image.width, height: image.height, steps: image.steps, count: 1 };
    const place = d.placeFor(who);
    const template = image.template;
    const ticket = new Ticket(d.quota, who, { key: d.keys.event(`${who.platform}:${eventId}`), ttlS: EVENT_TTL_S });
    const admission = await ticket.charge({ params, channel: place.channel, locale: L, ...(template ? { template: template.id } : {}) });
    if (!admission.ok && 'duplicate' in admission) return reply.code(409).send(errorBody('DUPLICATE', 'this request was made already'));
    if (!admission.ok) {
      d.hooks?.quotaRefused(who.platform, admission.reason);
      const code = admission.reason === 'rate_limited' ? 'RATE_LIMITED' : 'REFUSED';
      return reply.code(code === 'RATE_LIMITED' ? 429 : 409).send(errorBody(code, admission.reply || t(L, 'quota.rate_limited', { max: '—', seconds: 60 })));
    }
    const clipped = [...image.prompt].length > TITLE_PROMPT_MAX ? `${[...image.prompt].slice(0, TITLE_PROMPT_MAX - 1).join('')}…` : image.prompt;
    let thread: string;
    try {
      thread = await adapter.startThread(who.workspace, place.channel, t(L, 'gallery.again_title', { prompt: clipped }));
    } catch (err) {
      // Nowhere to post it: what the admission took goes back.
      await d.lifecycle.abandon(who, admission.jobId);
      throw err;
    }
    const origin = originOf({ ...who, channel: place.channel, channelKind: place.channelKind, thread }, { locale: L, eventId });
    const { jobId } = await d.lifecycle.submit(origin, params, {
      jobId: admission.jobId, weight: admission.weight, rank: admission.rank, charge: admission.charge,
      ...(template?.version ? { extra: { template: { id: template.id, version: template.version } } } : {}),
    });
    d.log.info({ jobId, from: image.id, user: who.user, platform: who.platform }, 'queued again from the gallery');
    return { ok: true, jobId, message: t(L, place.channelKind === 'playground' ? 'gallery.again_queued_playground' : 'gallery.again_queued_dm') };
  }));
}
