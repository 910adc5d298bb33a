/**
 * Deliveries that kept failing after every retry (platform down, bot removed from the channel, …) land
 * here instead of disappearing: a Redis list shared by the replicas, newest first, capped. `/zimage status`
 * shows the count, `/metrics` exports it, and an operator can read the entries with LRANGE.
 */
import type { Redis } from 'ioredis';
import type { Keys } from '../jobs/keys.js';

const MAX_ENTRIES = 1000;

export interface DeadLetter {
  jobId: string;
  /** The BullMQ id of the failed delivery job (retry it from the `deliver` queue's failed set). */
  deliveryId: string;
  kind: 'result' | 'failure';
  platform: string;
  workspace: string;
  thread: string;
  user: string;
  attempts: number;
  error: string;
  at: number;
}

export class DeadLetters {
  constructor(private readonly redis: Redis, private readonly keys: Keys) {}

  async add(entry: DeadLetter): Promise<void> {
    await this.redis.multi()
      .lpush(this.keys.deadLetters(), JSON.stringify(entry))
      .ltrim(this.keys.deadLetters(), 0, MAX_ENTRIES - 1)
      .exec();
  }

  async count(): Promise<number> {
    return this.redis.llen(this.keys.deadLetters());
  }

  async list(limit = 50): Promise<DeadLetter[]> {
    const raw = await this.redis.lrange(this.keys.deadLetters(), 0, limit - 1);
    return raw.map((r) => JSON.parse(r) as DeadLetter);
  }
}
