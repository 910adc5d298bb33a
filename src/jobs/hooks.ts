/**
 * What core code tells observability. Core files take an optional `ObservabilityHooks` and call it at
 * the few places where something worth counting happens; the hooks never throw into their caller.
 */
import type { DeliverJobData } from './types.js';

/** How one status edit went. */
export type EditResult = 'ok' | 'rate_limited' | 'error';

/** What a throttled platform call was: a reply or new thread (the reply retry), a delivery, a status edit. */
export type RateLimitedOperation = 'reply' | 'delivery' | 'status_edit';

export interface DeliveryFailure {
  data: DeliverJobData;
  /** BullMQ id of the delivery job. */
  deliveryId: string;
  attemptsMade: number;
  error: unknown;
  /** No attempt left: the delivery goes to the dead-letter list. */
  final: boolean;
}

/** How a delivery reached the bot: the fast lane (the usual way) or the durable `deliver` queue (the fallback). */
export type DeliveryPath = 'fast_lane' | 'queue';

export interface ObservabilityHooks {
  /** The tracker sent (or tried to send) one status edit. */
  statusEdit(platform: string, result: EditResult): void;
  /**
   * A delivery finished: the generation's result or failure was posted and its status recorded, through
   * the fast lane or by the durable `deliver` job.
   */
  jobEnded(data: DeliverJobData, acceptedAt: number, path: DeliveryPath): Promise<void>;
  /** A delivery attempt threw. */
  deliveryFailed(f: DeliveryFailure): Promise<void>;
  /** A command was refused by the quota (for the quota code to call). */
  quotaRefused(platform: string, reason: string): void;
  /**
   * A platform throttled a call (RATE_LIMITED). The tracker's and the deliveries' throttling arrive through
   * `statusEdit` and `deliveryFailed`; the reply retry (src/chat/reply-retry.ts) reports its own here.
   */
  platformRateLimited(platform: string, operation: RateLimitedOperation): void;
}

/** Hooks that do nothing (tests and tools that run core pieces alone). */
export const NO_HOOKS: ObservabilityHooks = {
  statusEdit: () => undefined,
  jobEnded: async () => undefined,
  deliveryFailed: async () => undefined,
  quotaRefused: () => undefined,
  platformRateLimited: () => undefined,
};
