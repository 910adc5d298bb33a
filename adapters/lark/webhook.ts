/**
 * Webhook mode: events and card callbacks arrive as HTTP POSTs on `/lark/events` (the bot's one HTTP port).
 * Every request is checked before anything else happens: with an Encrypt Key the body must be encrypted
 * (AES-256-CBC, key = SHA-256 of the Encrypt Key, IV = first 16 bytes) and signed
 * (X-Lark-Signature = sha256(timestamp + nonce + key + raw body)); the verification token inside must match.
 * The URL-verification challenge is answered here; everything else goes to the event dispatcher, whose
 * handlers return within Lark's 3 s.
 */
import { createDecipheriv, createHash, timingSafeEqual } from 'node:crypto';
import { errorBody, headerOf, rawBody, type FastifyReply, type FastifyRequest } from '../../src/http/server.js';
import type { Logger } from '../../src/infra/logger.js';

export const WEBHOOK_PATH = '/lark/events';

export interface WebhookOptions {
  verificationToken: string;
  encryptKey?: string;
  /** Hands a verified, decrypted payload to the event dispatcher; its answer becomes the response body. */
  dispatch: (payload: Record<string, unknown>) => Promise<unknown>;
  log: Logger;
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

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
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

export function webhookHandler(o: WebhookOptions): (req: FastifyRequest, reply: FastifyReply) => Promise<void> {
  return async (req, res) => {
    const raw = rawBody(req);
    const outer = parseObject(raw.toString('utf8'));
    if (!outer) return refuse(res, 400, 'BAD_JSON', 'the body must be a JSON object');
    let payload = outer;
    if (o.encryptKey) {
      if (typeof outer.encrypt !== 'string') return refuse(res, 400, 'NOT_ENCRYPTED', 'an Encrypt Key is configured, so the body must be encrypted');
      let inner: Record<string, unknown> | undefined;
      try {
        inner = parseObject(decryptPayload(outer.encrypt, o.encryptKey));
      } catch {
        inner = undefined;
      }
      if (!inner) return refuse(res, 400, 'BAD_ENCRYPTION', 'the body could not be decrypted with LARK_ENCRYPT_KEY');
      payload = inner;
      const ts = headerOf(req, 'x-lark-request-timestamp');
      const nonce = headerOf(req, 'x-lark-request-nonce');
      const sig = headerOf(req, 'x-lark-signature');
      // Lark signs events and callbacks; only the URL-verification request comes unsigned.
      if (ts && nonce && sig) {
        if (!sameText(sig, signatureOf(ts, nonce, o.encryptKey, raw))) return refuse(res, 401, 'BAD_SIGNATURE', 'X-Lark-Signature does not match');
      } else if (payload.type !== 'url_verification') {
        return refuse(res, 401, 'UNSIGNED', 'the request carries no X-Lark-Signature');
      }
    } else if (typeof outer.encrypt === 'string') {
      return refuse(res, 400, 'ENCRYPTED', 'the body is encrypted but LARK_ENCRYPT_KEY is not set');
    }
    const token = tokenOf(payload);
    if (!token || !sameText(token, o.verificationToken)) {
      o.log.warn({ type: payload.type ?? (payload.header as { event_type?: unknown } | undefined)?.event_type }, 'lark webhook: wrong verification token; refused');
      return refuse(res, 401, 'BAD_TOKEN', 'the verification token does not match LARK_VERIFICATION_TOKEN');
    }
    if (payload.type === 'url_verification') return void res.send({ challenge: payload.challenge });
    const answer = await o.dispatch(payload);
    void res.send(typeof answer === 'object' && answer !== null ? answer : {});
  };
}
