/**
 * The oldest Redis the bot works with: 6.2 (it uses GETDEL and LPOS, the job's place is read inside the
 * transaction that writes it, and BullMQ recommends 6.2 too). Checked once at start, so an older server fails
 * the start with a sentence instead of every command failing later.
 */
import type { Redis } from 'ioredis';
import { ZimageError } from '../errors.js';
import { olderThan } from './version.js';

export const MIN_REDIS_VERSION = '6.2.0';

/** The `redis_version` of an `INFO server` answer, if it has one. */
export function redisVersionOf(info: string): string | null {
  return /^redis_version:(\d+\.\d+\.\d+)/m.exec(info)?.[1] ?? null;
}

/** Throws CONFIG_INVALID when the server is older than MIN_REDIS_VERSION (servers that do not say are let through). */
export async function requireRedisVersion(conn: Redis, label: string): Promise<void> {
  const version = redisVersionOf(await conn.info('server'));
  if (version && olderThan(version, MIN_REDIS_VERSION)) {
    throw new ZimageError('CONFIG_INVALID', `Redis at ${label} is version ${version}; zimage-bot needs Redis ${MIN_REDIS_VERSION} or newer (upgrade it, or point REDIS_URL at a newer one).`);
  }
}
