import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { LuaScript } from './lua-script.js';

const RENEW = new LuaScript(`if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`);
const RELEASE = new LuaScript(`if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`);

/**
 * A lease in Redis for singletons (status tracker, schedulers) when several bot replicas run:
 * whoever holds the key does the work; a dead holder's lease expires after ttlMs.
 */
export class LeaderLock {
  private readonly token = randomUUID();
  private held = false;
  constructor(private readonly redis: Redis, private readonly key: string, private readonly ttlMs: number) {}

  /** Acquire or renew; true while this process is the leader. */
  async hold(): Promise<boolean> {
    if (this.held) {
      this.held = (await RENEW.run(this.redis, 1, this.key, this.token, String(this.ttlMs))) === 1;
      if (this.held) return true;
    }
    this.held = (await this.redis.set(this.key, this.token, 'PX', this.ttlMs, 'NX')) === 'OK';
    return this.held;
  }

  async release(): Promise<void> {
    if (this.held) await RELEASE.run(this.redis, 1, this.key, this.token);
    this.held = false;
  }
}
