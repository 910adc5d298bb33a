import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';
import { LuaScript } from '../infra/lua-script.js';

/** Weight of the newest sample in the rolling average of milliseconds per work unit. */
const ALPHA = 0.3;

const UPDATE = new LuaScript(`
local cur = tonumber(redis.call('hget', KEYS[1], 'msPerUnit'))
local sample = tonumber(ARGV[1])
local alpha = tonumber(ARGV[2])
if cur == nil then cur = sample else cur = cur + alpha * (sample - cur) end
redis.call('hset', KEYS[1], 'msPerUnit', tostring(cur))
redis.call('hincrby', KEYS[1], 'samples', 1)
return tostring(cur)`);

/** Record one finished job's speed (atomic across workers). */
export async function recordSpeed(redis: Redis, keys: Keys, generationMs: number, units: number): Promise<void> {
  if (!(units > 0) || !(generationMs >= 0)) return;
  await UPDATE.run(redis, 1, keys.stats(), String(generationMs / units), String(ALPHA));
}

export async function readSpeed(redis: Redis, keys: Keys): Promise<number | null> {
  const v = await redis.hget(keys.stats(), 'msPerUnit');
  return v === null ? null : Number(v);
}
