/**
 * HTTP mode without a second server: a Bolt Receiver mounted on the bot's own HTTP port at
 * `POST /slack/events`. It verifies Slack's signature on the raw body (401 when forged, unsigned or older
 * than 5 minutes), answers `url_verification` and `ssl_check`, and hands the payload to Bolt with an ack
 * that writes the HTTP response, so Slack gets its answer within 3 s while slow work goes on.
 */
import { verifySlackRequest, type App, type Receiver, type ReceiverEvent } from '@slack/bolt';
import { errorBody, headerOf, rawBody, type FastifyReply, type FastifyRequest, type HttpServer } from '../../src/http/server.js';
import type { Logger } from '../../src/infra/logger.js';

export const EVENTS_PATH = '/slack/events';
/** Answer Slack before its 3 s deadline even when no listener acknowledged the request. */
const ACK_DEADLINE_MS = 2500;
/** A signed request is accepted only this close to now, in either direction (Bolt checks only the past). */
export const MAX_CLOCK_SKEW_S = 300;

export class SlackHttpReceiver implements Receiver {
  private app: App | undefined;
  private listening = false;

  constructor(private readonly o: { http: HttpServer; signingSecret: string; log: Logger; now?: () => number }) {
    o.http.app.post(EVENTS_PATH, (req, reply) => this.handle(req, reply));
  }

  init(app: App): void { this.app = app; }
  async start(): Promise<void> { this.listening = true; }
  async stop(): Promise<void> { this.listening = false; }

  private async handle(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const raw = rawBody(req).toString('utf8');
    const signature = headerOf(req, 'x-slack-signature');
    const timestamp = Number(headerOf(req, 'x-slack-request-timestamp'));
    try {
      if (typeof signature !== 'string' || !Number.isFinite(timestamp)) throw new Error('missing signature headers');
      verifySlackRequest({ signingSecret: this.o.signingSecret, body: raw, headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': timestamp } });
      // A genuine signature on a request dated far from now is a capture being replayed (or a broken clock).
      const skew = Math.abs((this.o.now ?? Date.now)() / 1000 - timestamp);
      if (skew > MAX_CLOCK_SKEW_S) throw new Error(`request timestamp is ${Math.round(skew)} s away from now`);
    } catch (err) {
      this.o.log.warn({ reason: (err as Error).message }, 'rejected a Slack request that failed signature verification');
      return void reply.code(401).send(errorBody('BAD_SIGNATURE', 'request signature could not be verified'));
    }
    let body: Record<string, unknown>;
    try {
      body = parseBody(raw, String(req.headers['content-type'] ?? ''));
    } catch {
      return void reply.code(400).send(errorBody('BAD_BODY', 'unreadable Slack payload'));
    }
    if (body.ssl_check) return void reply.code(200).send('');
    if (body.type === 'url_verification') return void reply.send({ challenge: body.challenge });
    if (!this.app || !this.listening) return void reply.code(503).send(errorBody('NOT_READY', 'the bot is starting'));
    await this.dispatch(this.app, body, req, reply);
  }

  private async dispatch(app: App, body: Record<string, unknown>, req: FastifyRequest, reply: FastifyReply): Promise<void> {
    let acked = false;
    const respond = (payload: unknown): void => {
      if (acked) return;
      acked = true;
      clearTimeout(deadline);
      if (payload === undefined || payload === '') void reply.code(200).send('');
      else if (typeof payload === 'string') void reply.code(200).header('content-type', 'text/plain; charset=utf-8').send(payload);
      else void reply.code(200).send(payload);
    };
    const deadline = setTimeout(() => {
      this.o.log.warn({ type: body.type ?? (body.command ? 'command' : undefined) }, 'no Slack listener acknowledged in time; answering 200');
      respond(undefined);
    }, ACK_DEADLINE_MS);
    const retryNum = Number(headerOf(req, 'x-slack-retry-num'));
    const retryReason = headerOf(req, 'x-slack-retry-reason');
    const event: ReceiverEvent = {
      body,
      ack: async (response?: unknown) => respond(response),
      ...(Number.isInteger(retryNum) ? { retryNum } : {}),
      ...(typeof retryReason === 'string' ? { retryReason } : {}),
    };
    try {
      await app.processEvent(event);
      // Nothing listened (e.g. an event type the bot ignores): still a 200, so Slack does not retry.
      respond(undefined);
    } catch (err) {
      this.o.log.error({ err }, 'Slack listener failed');
      if (!acked) {
        acked = true;
        clearTimeout(deadline);
        void reply.code(500).send(errorBody('INTERNAL', 'internal error'));
      }
    }
  }
}

/** Events arrive as JSON; commands as a form; interactions as a form with one `payload` JSON field. */
export function parseBody(raw: string, contentType: string): Record<string, unknown> {
  if (contentType.includes('application/json')) return JSON.parse(raw) as Record<string, unknown>;
  const form = Object.fromEntries(new URLSearchParams(raw));
  if (typeof form.payload === 'string') return JSON.parse(form.payload) as Record<string, unknown>;
  return form;
}
