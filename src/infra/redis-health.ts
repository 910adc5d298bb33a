/**
 * Redis being unreachable, as the rest of the process sees it: which errors mean "Redis is not there right now"
 * (so a command gets "try again" instead of a stack trace), one log line when an outage starts and one when it
 * ends (not one per reconnect attempt and connection), waiting for a connection to be ready, and closing
 * connections without waiting on a Redis that is gone.
 */
import type { Redis } from 'ioredis';
import { settledWithin } from './deadline.js';
import type { Logger } from './logger.js';

const UNAVAILABLE_MESSAGES = [
  'Connection is closed', "Stream isn't writeable", 'Command timed out', 'max retries per request', 'All sentinels are unreachable',
  'LOADING', 'CLUSTERDOWN', 'MASTERDOWN', 'READONLY',
];
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND']);

/** True when `err` (or its cause) says Redis cannot be reached or cannot serve right now, not that a command was wrong. */
export function isRedisUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    if (typeof e !== 'object') return false;
    const { name, code, message } = e as { name?: unknown; code?: unknown; message?: unknown };
    if (name === 'MaxRetriesPerRequestError' || name === 'ConnectionClosedError') return true;
    if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true;
    if (typeof message === 'string' && UNAVAILABLE_MESSAGES.some((m) => message.includes(m))) return true;
    if (typeof message === 'string' && [...UNAVAILABLE_CODES].some((c) => message.includes(c))) return true;
  }
  return false;
}

/** `host:port` of a Redis URL (never its password), or the Sentinel master's name. */
export function redisLabel(url: string): string {
  const sentinel = /^redis-sentinel:\/\/(?:[^@/]*@)?([^/]+)\/([^/?]+)/.exec(url);
  if (sentinel) return `sentinel master ${decodeURIComponent(sentinel[2]!)}`;
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 6379}`;
  } catch {
    return 'Redis';
  }
}

/**
 * Watches a process's Redis connections and logs an outage once: when the first one loses Redis, and when every
 * one is back. Connections closed on purpose (shutdown) stop counting.
 */
export class RedisWatch {
  private readonly down = new Set<Redis>();
  private since = 0;
  private closed = false;

  constructor(private readonly log: Logger, private readonly label: string) {}

  add(conn: Redis): Redis {
    const lost = (err?: Error): void => {
      if (this.closed || conn.status === 'end') return;
      if (this.down.size === 0) {
        this.since = Date.now();
        const why = (err as NodeJS.ErrnoException | undefined)?.code ?? err?.message ?? 'connection lost';
        this.log.warn({ redis: this.label, reason: why }, `Redis at ${this.label} is unreachable (${why}); retrying in the background, commands are answered "try again" meanwhile`);
      }
      this.down.add(conn);
    };
    const back = (): void => {
      if (!this.down.delete(conn) || this.down.size > 0 || this.closed) return;
      this.log.info({ redis: this.label, downMs: Date.now() - this.since }, `Redis at ${this.label} is reachable again after ${((Date.now() - this.since) / 1000).toFixed(1)} s`);
    };
    conn.on('error', (err: Error) => lost(err));
    conn.on('close', () => lost());
    conn.on('ready', back);
    conn.on('end', () => { this.down.delete(conn); });
    return conn;
  }

  /** Shutting down: connections closing now are not an outage. */
  close(): void {
    this.closed = true;
  }
}

/** Resolves when `conn` is ready (ioredis reconnects by itself); rejects if it is closed for good first. */
export function untilReady(conn: Redis): Promise<void> {
  if (conn.status === 'ready') return Promise.resolve();
  return new Promise((ok, fail) => {
    const ready = (): void => { conn.off('end', ended); ok(); };
    const ended = (): void => { conn.off('ready', ready); fail(new Error('Connection is closed.')); };
    conn.once('ready', ready);
    conn.once('end', ended);
  });
}

/** QUIT each connection (pending replies first), but no longer than `ms`; then drop whatever is left. */
export async function closeRedis(conns: Redis[], ms: number): Promise<void> {
  await settledWithin(Promise.allSettled(conns.map((c) => (c.status === 'end' ? undefined : c.quit()))), ms);
  for (const c of conns) c.disconnect();
}
