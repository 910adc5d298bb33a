/**
 * A Lua script for Redis, sent by its SHA-1 (EVALSHA) and as text only when the server does not know it yet
 * (NOSCRIPT: a new or restarted server, SCRIPT FLUSH) — the text, a few hundred bytes to a few KB, is then
 * not written, and hashed by Redis, on every call.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

export class LuaScript {
  readonly sha: string;

  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /** As `redis.eval(source, numKeys, ...keysAndArgs)`. */
  async run(redis: Redis, numKeys: number, ...keysAndArgs: Array<string | number | Buffer>): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, numKeys, ...keysAndArgs);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return redis.eval(this.source, numKeys, ...keysAndArgs);
    }
  }
}
