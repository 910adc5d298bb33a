/**
 * Webhook mode: events and card callbacks arrive as HTTP POSTs on `/lark/events` (the bot's one HTTP port).
 * Every request is checked before anything else happens:
 *
 * - With an Encrypt Key, the body must be encrypted (AES-256-CBC, key = SHA-256 of the Encrypt Key, IV = the
 *   first 16 bytes) and signed (X-Lark-Signature = sha256(timestamp + nonce + key + raw body)). The signature
 *   is checked *before* anything is decrypted, and its timestamp must be within 5 minutes of now in either
 *   direction, so a captured request cannot be replayed later, whatever the duplicate marks remember. Only
 *   the URL-verification challenge comes unsigned, and nothing but the challenge is answered without one.
 * - Without an Encrypt Key (token-only mode, which the adapter warns about at start) the verification token is
 *   the only secret, so the event's own creation time must be recent (within the duplicate marks' memory).
 * - The verification token inside must match in both modes.
 *
 * The URL-verification challenge is answered here; everything else goes to the event dispatcher, whose
 * handlers return within Lark's 3 s.
 */
import { createDecipheriv, createHash } from 'node:crypto';
import { sameSecret } from '../../src/http/secret-compare.js';
import { errorBody, headerOf, rawBody, type FastifyReply, type FastifyRequest } from '../../src/http/server.js';
import type { Logger } from '../../src/infra/logger.js';

export const WEBHOOK_PATH = '/lark/events';
/** A signed request must be dated this close to now (seconds, either direction). */
export const MAX_CLOCK_SKEW_S = 300;
/** Token-only mode: an event created longer ago than this is refused (Lark re-pushes for about 7 hours). */
export const MAX_EVENT_AGE_MS = 24 * 3600_000;

export interface WebhookOptions {
  verificationToken: string;
  encryptKey?: string;
  /** Hands a verified, decrypted payload to the event dispatcher; its answer becomes the response body. */
  dispatch: (payload: Record<string, unknown>) => Promise<unknown>;
  log: Logger;
  now?: () => number;
}

/** Decrypt an `encrypt` field the way Lark encrypts it. */
export function decryptPayload(encrypted: string, encryptKey: string): string {
  const key = createHash('sha256').update(encryptKey).digest();
  const buf = Buffer.from(encrypted, 'base64');
  if (buf.length < 32 || buf.length % 16 !== 0) throw new Error('encrypted body has the wrong length');
  const decipher = createDecipheriv('aes-256-cbc', key, buf.subarray(0, 16));
  return Buffer.concat([decipher.update(buf.subarray(16)), decipher.final()]).toString('utf8');
}

export function signatureOf(timestamp: string, nonce: string, encryptKey: string, rawBody: Buffer): string {
  return createHash('sha256').update(timestamp + nonce + encryptKey).update(rawBody).digest('hex');
}

const refuse = (reply: FastifyReply, status: number, code: string, message: string): void => void reply.code(status).send(errorBody(code, message));

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The verification token a payload carries: v2 in `header.token`, v1 and the challenge at the top level. */
function tokenOf(payload: Record<string, unknown>): string | undefined {
  const h = payload.header as { token?: unknown } | undefined;
  const token = typeof h === 'object' && h !== null ? h.token : payload.token;
  return typeof token === 'string' ? token : undefined;
}

/**
 * When the event was created, in ms: v2 `header.create_time` (milliseconds for events, microseconds for card
 * callbacks), v1 `ts` (seconds). The unit is told by the magnitude.
 */
function createdAt(payload: Record<string, unknown>): number | undefined {
  const h = payload.header as { create_time?: unknown } | undefined;
  const v = Number(typeof h === 'object' && h !== null ? h.create_time : payload.ts);
  if (!Number.isFinite(v) || v <= 0) return undefined;
  if (v > 1e14) return v / 1000;
  if (v < 1e11) return v * 1000;
  return v;
}

/** Check signature, freshness and encryption of an encrypted request; the decrypted payload, or why not. */
function openEncrypted(req: FastifyRequest, raw: Buffer, outer: Record<string, unknown>, key: string, now: number):
  { payload: Record<string, unknown>; signed: boolean } | { status: number; code: string; message: string } {
  if (typeof outer.encrypt !== 'string') return { status: 400, code: 'NOT_ENCRYPTED', message: 'an Encrypt Key is configured, so the body must be encrypted' };
  const ts = headerOf(req, 'x-lark-request-timestamp');
  const nonce = headerOf(req, 'x-lark-request-nonce');
  const sig = headerOf(req, 'x-lark-signature');
  const signed = Boolean(ts && nonce && sig);
  if (signed) {
    if (!sameSecret(sig!, signatureOf(ts!, nonce!, key, raw))) return { status: 401, code: 'BAD_SIGNATURE', message: 'X-Lark-Signature does not match' };
    const skew = Math.abs(now / 1000 - Number(ts));
    if (!Number.isFinite(skew) || skew > MAX_CLOCK_SKEW_S) return { status: 401, code: 'STALE_REQUEST', message: 'the request timestamp is more than 5 minutes from now' };
  }
  let payload: Record<string, unknown> | undefined;
  try {
    payload = parseObject(decryptPayload(outer.encrypt, key));
  } catch {
    payload = undefined;
  }
  if (!payload) return { status: 400, code: 'BAD_ENCRYPTION', message: 'the body could not be decrypted with LARK_ENCRYPT_KEY' };
  // Lark signs events and callbacks; only the URL-verification request comes unsigned.
  if (!signed && payload.type !== 'url_verification') return { status: 401, code: 'UNSIGNED', message: 'the request carries no X-Lark-Signature' };
  return { payload, signed };
}

export function webhookHandler(o: WebhookOptions): (req: FastifyRequest, reply: FastifyReply) => Promise<void> {
  return async (req, reply) => {
    const now = (o.now ?? Date.now)();
    const raw = rawBody(req);
    const outer = parseObject(raw.toString('utf8'));
    if (!outer) return refuse(reply, 400, 'BAD_JSON', 'the body must be a JSON object');
    let payload = outer;
    if (o.encryptKey) {
      const opened = openEncrypted(req, raw, outer, o.encryptKey, now);
      if ('status' in opened) {
        o.log.warn({ code: opened.code }, 'lark webhook: request refused');
        return refuse(reply, opened.status, opened.code, opened.message);
      }
      payload = opened.payload;
    } else if (typeof outer.encrypt === 'string') {
      return refuse(reply, 400, 'ENCRYPTED', 'the body is encrypted but LARK_ENCRYPT_KEY is not set');
    }
    const token = tokenOf(payload);
    if (!token || !sameSecret(token, o.verificationToken)) {
      // Anyone can send this: what it says it is goes to the log clipped, so a request cannot write a megabyte line.
      const type = payload.type ?? (payload.header as { event_type?: unknown } | undefined)?.event_type;
      o.log.warn({ type: type === undefined ? undefined : String(type).slice(0, 80) }, 'lark webhook: wrong verification token; refused');
      return refuse(reply, 401, 'BAD_TOKEN', 'the verification token does not match LARK_VERIFICATION_TOKEN');
    }
    if (payload.type === 'url_verification') return void reply.send({ challenge: payload.challenge });
    if (!o.encryptKey) {
      // Token-only mode has no signed timestamp: the event's own age bounds how long a capture stays usable.
      const at = createdAt(payload);
      if (at === undefined || now - at > MAX_EVENT_AGE_MS || at - now > MAX_CLOCK_SKEW_S * 1000) {
        o.log.warn({ createdAt: at }, 'lark webhook: event too old (or dated in the future); refused');
        return refuse(reply, 401, 'STALE_REQUEST', 'the event is too old to be accepted');
      }
    }
    const answer = await o.dispatch(payload);
    void reply.send(typeof answer === 'object' && answer !== null ? answer : {});
  };
}
