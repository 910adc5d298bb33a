import { Redis, type RedisOptions } from 'ioredis';
import type { RedisWatch } from './redis-health.js';

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

/**
 * What a connection is for, which decides how it behaves while Redis is unreachable:
 * - `worker` (default): BullMQ workers, blocking reads, subscribers, and a worker's own writes. Commands wait for
 *   Redis to come back (`maxRetriesPerRequest: null`, which BullMQ requires of blocking connections).
 * - `command`: answering people (queueing, quota, status, health probes). Commands fail at once while Redis is
 *   unreachable (no offline queue), a command in flight when the link drops is failed rather than re-sent after
 *   a reconnect, and none waits longer than COMMAND_TIMEOUT_MS — so nothing is written after its caller gave up.
 */
export type RedisRole = 'worker' | 'command';

/** Longest wait for one reply on a `command` connection (Redis answers in well under a millisecond). */
export const COMMAND_TIMEOUT_MS = 5000;

const ROLE_OPTIONS: Record<RedisRole, RedisOptions> = {
  worker: { maxRetriesPerRequest: null },
  command: { maxRetriesPerRequest: 0, enableOfflineQueue: false, autoResendUnfulfilledCommands: false, commandTimeout: COMMAND_TIMEOUT_MS },
};

export interface CreateRedisOptions {
  role?: RedisRole;
  /** Reports outages of this connection once per outage (see RedisWatch). */
  watch?: RedisWatch;
  /**
   * Send the commands issued in one tick of the event loop as one write (ioredis auto-pipelining): under a
   * burst of requests, hundreds of small commands go out in a few writes instead of one system call each.
   * Not for connections that block (BRPOP, subscribers) or that BullMQ owns.
   */
  autoPipelining?: boolean;
}

/** A Redis connection for `role` (see RedisRole); reconnects by itself, with a back-off of at most 2 s. */
export function createRedis(url: string, name = 'zimage', o: CreateRedisOptions = {}): Redis {
  const sentinel = sentinelOptions(url);
  const options: RedisOptions = { ...ROLE_OPTIONS[o.role ?? 'worker'], connectionName: name, ...(o.autoPipelining ? { enableAutoPipelining: true } : {}) };
  const redis = sentinel ? new Redis({ ...sentinel, ...options }) : new Redis(url, options);
  // Without a listener every failed reconnect would print a stack trace; an outage is logged once by the watch,
  // shows in /readyz, and callers see their own commands fail (command role) or wait (worker role).
  redis.on('error', () => undefined);
  o.watch?.add(redis);
  return redis;
}

export type { Redis };
