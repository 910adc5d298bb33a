import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { DeliverJobData, GenerateJobData } from './types.js';

export const GENERATE_QUEUE = 'generate';
export const DELIVER_QUEUE = 'deliver';

/** Attempts for a generation: a crash or error re-runs it; stalls are counted separately (maxStalledCount). */
export const GENERATE_ATTEMPTS = 3;

export const generateJobOptions: JobsOptions = {
  attempts: GENERATE_ATTEMPTS,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { age: 24 * 3600, count: 5000 },
  removeOnFail: { age: 7 * 24 * 3600, count: 5000 },
};

/** Deliveries are retried with backoff for about an hour (platform 5xx / 429 / outages). */
export const deliverJobOptions: JobsOptions = {
  attempts: 12,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { age: 24 * 3600, count: 5000 },
  removeOnFail: { age: 30 * 24 * 3600 },
};

export interface Queues {
  generate: Queue<GenerateJobData>;
  deliver: Queue<DeliverJobData>;
  close(): Promise<void>;
}

export function openQueues(connection: Redis, prefix: string): Queues {
  const generate = quiet(new Queue<GenerateJobData>(GENERATE_QUEUE, { connection, prefix }));
  const deliver = quiet(new Queue<DeliverJobData>(DELIVER_QUEUE, { connection, prefix }));
  return {
    generate,
    deliver,
    async close() { await Promise.all([generate.close(), deliver.close()]); },
  };
}

/**
 * A queue's own 'error' events are its connection's (an outage, logged once by the Redis watch); each call that
 * fails rejects too. Without a listener BullMQ prints each one with console.error.
 */
export function quiet<Q extends { on(event: 'error', listener: (err: Error) => void): unknown }>(queue: Q): Q {
  queue.on('error', () => undefined);
  return queue;
}

/** Deterministic id of the deliver job for a generation: a re-run worker cannot deliver twice. */
export function deliverJobId(jobId: string): string {
  return `deliver-${jobId}`;
}
