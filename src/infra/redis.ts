import { Redis, type RedisOptions } from 'ioredis';

/**
 * Redis Sentinel as a URL: `redis-sentinel://[:password@]host1:26379,host2:26379/<master name>[?db=N]`.
 * The password is the data nodes' password (Sentinels are reached without one). Null for any other URL.
 */
export function sentinelOptions(url: string): RedisOptions | null {
  const m = /^redis-sentinel:\/\/(?:(?:[^:@/]*):([^@/]*)@)?([^/]+)\/([^/?]+)(?:\?(.*))?$/.exec(url);
  if (!m) return null;
  const sentinels = m[2]!.split(',').map((hp) => {
    const i = hp.lastIndexOf(':');
    return i > 0 ? { host: hp.slice(0, i), port: Number(hp.slice(i + 1)) } : { host: hp, port: 26379 };
  });
  const db = Number(new URLSearchParams(m[4] ?? '').get('db') ?? 0);
  return { sentinels, name: decodeURIComponent(m[3]!), db, ...(m[1] ? { password: decodeURIComponent(m[1]) } : {}) };
}

/** A Redis connection suitable for BullMQ (blocking commands need maxRetriesPerRequest: null). */
export function createRedis(url: string, name = 'zimage'): Redis {
  const sentinel = sentinelOptions(url);
  const redis = sentinel
    ? new Redis({ ...sentinel, maxRetriesPerRequest: null, connectionName: name })
    : new Redis(url, { maxRetriesPerRequest: null, connectionName: name });
  // ioredis reconnects by itself and commands wait meanwhile (maxRetriesPerRequest: null); an outage shows in
  // /readyz and in the callers' own errors. Without a listener every failed reconnect would print a stack trace.
  redis.on('error', () => undefined);
  return redis;
}

export type { Redis };
