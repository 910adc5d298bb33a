/**
 * What core code tells observability. Core files take an optional `ObservabilityHooks` and call it at
 * the few places where something worth counting happens; the hooks never throw into their caller.
 */
import type { DeliverJobData } from './types.js';

/** How one status edit went. */
export type EditResult = 'ok' | 'rate_limited' | 'error';

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
}

/** Hooks that do nothing (tests and tools that run core pieces alone). */
export const NO_HOOKS: ObservabilityHooks = {
  statusEdit: () => undefined,
  jobEnded: async () => undefined,
  deliveryFailed: async () => undefined,
  quotaRefused: () => undefined,
};
