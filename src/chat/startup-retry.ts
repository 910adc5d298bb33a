/**
 * The one call an adapter makes at start (who the bot is — on Lark also its first tenant token) may meet a
 * passing outage. Nothing above an adapter's start retries it, and a bot that fails to start over one 503
 * is worse than one that starts a few seconds late, so that call alone gets a few quick tries. Calls made
 * for the core never go through here: they fail at once (see ChatAdapter).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { retryAfterOf } from '../errors.js';
import type { Logger } from '../infra/logger.js';
import { isTransientPlatformError } from './platform-errors.js';

export interface StartupRetryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const STARTUP_RETRY: StartupRetryPolicy = { attempts: 3, baseDelayMs: 500, maxDelayMs: 5000 };

/** Run `call`, retrying transient platform failures (already mapped to platform-neutral codes) a few times. */
export async function retryAtStartup<T>(what: string, call: () => Promise<T>, log: Logger, policy: StartupRetryPolicy = STARTUP_RETRY): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (!isTransientPlatformError(err) || attempt >= policy.attempts) throw err;
      const waitMs = Math.min(policy.maxDelayMs, Math.max(retryAfterOf(err), policy.baseDelayMs * 2 ** (attempt - 1)));
      log.warn({ what, attempt, waitMs, code: err.code }, `${what} failed at start; trying again`);
      await sleep(waitMs);
    }
  }
}
