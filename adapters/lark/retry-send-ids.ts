/**
 * Lark posts a send once per `uuid` (for an hour). Replies and new threads carry a fresh uuid each — a person
 * may ask for the same help twice — except when the core retries one that failed in a way worth retrying
 * (throttled, unavailable): the retry of the same text into the same place reuses the failed attempt's uuid,
 * so a first attempt that did land (a 5xx after Lark posted it) is not posted a second time.
 */
import { createHash, randomUUID } from 'node:crypto';
import { isTransientPlatformError } from '../../src/chat/platform-errors.js';

/** Longer than any wait of the core's retry, shorter than Lark's hour. */
const HOLD_MS = 10 * 60_000;
const MAX_HELD = 10_000;

export class RetrySendIds {
  private readonly held = new Map<string, { uuid: string; until: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Send with the held uuid of an earlier failed attempt of the same send, or a new one. */
  async send<T>(parts: string[], post: (uuid: string) => Promise<T>): Promise<T> {
    const key = createHash('sha256').update(parts.join('\u0000')).digest('base64url');
    const now = this.now();
    const earlier = this.held.get(key);
    const uuid = earlier && earlier.until > now ? earlier.uuid : randomUUID();
    try {
      const result = await post(uuid);
      this.held.delete(key);
      return result;
    } catch (err) {
      if (isTransientPlatformError(err)) this.hold(key, uuid, now);
      throw err;
    }
  }

  /** Entries stay in the order of their expiry (re-held ones move to the end), so expired ones are at the front. */
  private hold(key: string, uuid: string, now: number): void {
    this.held.delete(key);
    for (const [k, v] of this.held) {
      if (v.until > now && this.held.size < MAX_HELD) break;
      this.held.delete(k);
    }
    this.held.set(key, { uuid, until: now + HOLD_MS });
  }
}
