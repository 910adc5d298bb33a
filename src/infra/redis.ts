import { Redis } from 'ioredis';

/** A Redis connection suitable for BullMQ (blocking commands need maxRetriesPerRequest: null). */
export function createRedis(url: string, name = 'zimage'): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, connectionName: name });
}

export type { Redis };
