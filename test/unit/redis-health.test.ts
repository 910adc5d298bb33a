import { describe, expect, it, vi } from 'vitest';
import { Deadline, settledWithin } from '../../src/infra/deadline.js';
import { createLogger } from '../../src/infra/logger.js';
import { isRedisUnavailable, redisLabel } from '../../src/infra/redis-health.js';
import { DeferredRefunds } from '../../src/quota/deferred-refunds.js';

describe('isRedisUnavailable', () => {
  it('recognises what ioredis and BullMQ say while Redis is gone, and nothing else', () => {
    const econn = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' });
    for (const err of [
      econn, new Error("Stream isn't writeable and enableOfflineQueue options is false"), new Error('Connection is closed.'),
      new Error('Command timed out'), Object.assign(new Error('Reached the max retries per request limit (which is 0).'), { name: 'MaxRetriesPerRequestError' }),
      new Error('LOADING Redis is loading the dataset in memory'), new Error('wrapped', { cause: econn }),
    ]) expect(isRedisUnavailable(err), err.message).toBe(true);
    for (const err of [new Error('WRONGTYPE Operation against a key holding the wrong kind of value'), new Error('ERR syntax error'), 'text', null, undefined]) {
      expect(isRedisUnavailable(err)).toBe(false);
    }
  });

  it('labels a Redis by host and port, never with its password', () => {
    expect(redisLabel('redis://:s3cret-pw@redis.internal:6380/0')).toBe('redis.internal:6380');
    expect(redisLabel('rediss://user:pw@cache.example')).toBe('cache.example:6379');
    expect(redisLabel('redis-sentinel://:pw@s1:26379,s2:26379/mymaster')).toBe('sentinel master mymaster');
    expect(redisLabel('redis-sentinel://:pw@s1:26379/mymaster')).not.toContain('pw');
  });
});

describe('Deadline', () => {
  it('a wait that timed out agrees that the deadline passed (a timer may fire a millisecond early)', async () => {
    let early = 0;
    for (let i = 0; i < 200; i++) {
      const d = Deadline.in(2 + (i % 5));
      if (!(await d.wait(new Promise(() => undefined))) && !d.passed()) early++;
    }
    expect(early).toBe(0);
  });

  it('waits for work until the deadline, then moves on while the work goes on', async () => {
    const d = Deadline.in(200);
    expect(await d.wait(new Promise((ok) => setTimeout(ok, 20)))).toBe(true);
    expect(await d.wait(Promise.reject(new Error('failed work counts as settled')))).toBe(true);
    const t0 = Date.now();
    expect(await d.wait(new Promise(() => undefined))).toBe(false);
    expect(Date.now() - t0).toBeLessThan(400);
    expect(d.passed()).toBe(true);
    expect(await d.wait(Promise.resolve())).toBe(true); // already settled work wins even after the deadline
    expect(await settledWithin(new Promise(() => undefined), 0)).toBe(false);
    expect(d.earlier(1000).remainingMs()).toBe(0);
  });
  it('keeps its time when the wall clock steps (an NTP correction): it counts on the monotonic clock', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const d = Deadline.in(60_000);
      vi.setSystemTime(Date.now() + 2 * 3600_000); // the wall clock jumps two hours ahead
      expect(d.passed()).toBe(false);
      expect(d.remainingMs()).toBeGreaterThan(59_000);
      vi.setSystemTime(Date.now() - 4 * 3600_000); // and back, past where it started
      expect(d.remainingMs()).toBeLessThanOrEqual(60_000);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('DeferredRefunds', () => {
  it('retries while Redis is unreachable, gives back only what was not written, and forgets other failures', async () => {
    const down = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    let redisUp = false;
    const given: string[] = [];
    const deferred = new DeferredRefunds(createLogger('silent'), 20);
    const giveBack = (id: string) => async () => { if (!redisUp) throw down; given.push(id); };
    deferred.add('j-unwritten', async () => { if (!redisUp) throw down; return true; }, giveBack('j-unwritten'));
    deferred.add('j-written', async () => { if (!redisUp) throw down; return false; }, giveBack('j-written'));
    deferred.add('j-broken', async () => { throw new Error('ERR unexpected'); }, giveBack('j-broken'));
    await new Promise((ok) => setTimeout(ok, 100));
    expect(given).toEqual([]);
    expect(deferred.size).toBe(2); // the broken one was dropped (and logged), the others wait for Redis
    redisUp = true;
    await new Promise((ok) => setTimeout(ok, 100));
    expect(given).toEqual(['j-unwritten']);
    expect(deferred.size).toBe(0);
    deferred.stop();
  });
});
