/** Lua scripts by SHA-1 on a real Redis: the text goes once (first call, or after the server forgot it), then only the hash. */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createRedis } from '../../src/infra/redis.js';
import { LuaScript } from '../../src/infra/lua-script.js';
import { REDIS_URL } from '../helpers/harness.js';

let redis: Redis;
beforeAll(() => { redis = createRedis(REDIS_URL(), 'lua-script-test'); });
afterAll(async () => { await redis?.quit(); });

describe('LuaScript', () => {
  it('runs a script the server does not know, then by its hash, and again after the server forgot it', async () => {
    const script = new LuaScript(`return {KEYS[1], ARGV[1], ${Date.now()}}`);
    expect((await redis.script('EXISTS', script.sha)) as number[]).toEqual([0]);
    expect(await script.run(redis, 1, 'k', 'v')).toEqual(['k', 'v', expect.any(Number)]);
    expect((await redis.script('EXISTS', script.sha)) as number[]).toEqual([1]);
    const evals = vi.spyOn(redis, 'eval');
    expect(await script.run(redis, 1, 'k2', 'v2')).toEqual(['k2', 'v2', expect.any(Number)]);
    expect(evals).not.toHaveBeenCalled(); // known now: the hash only
    await redis.script('FLUSH');
    expect(await script.run(redis, 1, 'k3', 'v3')).toEqual(['k3', 'v3', expect.any(Number)]);
    expect(evals).toHaveBeenCalledTimes(1); // forgotten: the text once more
    evals.mockRestore();
  });

  it('a script error reaches the caller as it is', async () => {
    const script = new LuaScript(`return redis.call('nosuchcommand')`);
    await expect(script.run(redis, 0)).rejects.toThrow(/Unknown Redis command|unknown command/i);
  });
});
