/**
 * The start-up check of the Redis version (src/infra/redis-version.ts): through a real ioredis client against
 * a real Redis (passes) and against a tiny RESP server on 127.0.0.1 that says it is Redis 5 (refused, in a
 * sentence that names the fix).
 */
import { createServer, type Server } from 'node:net';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { MIN_REDIS_VERSION, redisVersionOf, requireRedisVersion } from '../../src/infra/redis-version.js';
import { olderThan } from '../../src/infra/version.js';
import { REDIS_URL } from '../helpers/harness.js';

const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => { while (closers.length) await closers.pop()!(); });

/** Answers INFO as Redis `version` would, and every other command (HELLO, CLIENT SETINFO, …) as unknown, as Redis 5 does. */
async function oldRedis(version: string): Promise<number> {
  const server: Server = createServer((socket) => {
    socket.on('data', (d) => {
      const lines = d.toString('latin1').split('\r\n');
      for (let i = 0; i < lines.length; i++) {
        if (!lines[i]!.startsWith('*')) continue;
        const name = (lines[i + 2] ?? '').toLowerCase(); // *N, $len, the command's name, …
        if (name === 'info') {
          const body = `# Server\r\nredis_version:${version}\r\nloading:0\r\n`;
          socket.write(`$${Buffer.byteLength(body)}\r\n${body}\r\n`);
        } else {
          socket.write(`-ERR unknown command '${name}'\r\n`);
        }
      }
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  closers.push(() => new Promise<void>((ok) => server.close(() => ok())));
  return (server.address() as { port: number }).port;
}

describe('the Redis version check', () => {
  it('reads and compares versions', () => {
    expect(redisVersionOf('# Server\r\nredis_version:7.0.15\r\nredis_git_sha1:0\r\n')).toBe('7.0.15');
    expect(redisVersionOf('# Server\r\nsomething:else\r\n')).toBeNull();
    expect(olderThan('6.0.16', MIN_REDIS_VERSION)).toBe(true);
    expect(olderThan('5.0.7', MIN_REDIS_VERSION)).toBe(true);
    expect(olderThan('6.2.0', MIN_REDIS_VERSION)).toBe(false);
    expect(olderThan('6.10.1', MIN_REDIS_VERSION)).toBe(false);
    expect(olderThan('7.0.15', MIN_REDIS_VERSION)).toBe(false);
  });

  it('lets the real Redis through and refuses one that says it is Redis 5', async () => {
    const real = new Redis(REDIS_URL(), { maxRetriesPerRequest: 1 });
    closers.push(() => { real.disconnect(); });
    await expect(requireRedisVersion(real, 'the test Redis')).resolves.toBeUndefined();

    const port = await oldRedis('5.0.7');
    const old = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1, retryStrategy: () => null });
    closers.push(() => { old.disconnect(); });
    await expect(requireRedisVersion(old, `127.0.0.1:${port}`)).rejects.toMatchObject({
      code: 'CONFIG_INVALID', message: expect.stringMatching(/is version 5\.0\.7; zimage-bot needs Redis 6\.2\.0 or newer/),
    });
  });
});
