/**
 * The private redis-server (real processes): one per data directory, outside its parent's process group, and
 * never outliving its parent however it ends.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { isZimageError } from '../../src/errors.js';
import { startEmbeddedRedis, type EmbeddedRedis } from '../../src/infra/embedded-redis.js';
import { isAlive, killGroup, redisServersOn, until } from '../helpers/processes.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'zimage-emb-'));
  cleanups.push(() => {
    for (const pid of redisServersOn(dir)) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/**
 * A node process (its own process group) that starts the private Redis on `dir` and reports its pid and port;
 * it reports SIGTERM instead of dying of it.
 */
async function parentWithRedis(dir: string): Promise<{ parent: number; redis: number; port: number; output: () => string }> {
  const mod = pathToFileURL(resolve('dist/src/infra/embedded-redis.js')).href;
  const code = `process.on('SIGTERM', () => process.stdout.write('got SIGTERM\\n'));`
    + `import(${JSON.stringify(mod)}).then(async (m) => { const r = await m.startEmbeddedRedis({ dir: ${JSON.stringify(dir)} });`
    + ` process.stdout.write(JSON.stringify({ pid: r.pid, port: r.port }) + '\\n'); setInterval(() => {}, 1000); })`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  cleanups.push(() => killGroup(child.pid!, 'SIGKILL'));
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  await until(() => out.includes('\n'), 20_000, 'the child to start its Redis');
  const { pid, port } = JSON.parse(out.split('\n')[0]!) as { pid: number; port: number };
  return { parent: child.pid!, redis: pid, port, output: () => out };
}

const pgidOf = (pid: number): number => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
};

describe('the private Redis', () => {
  it('one server per data directory: a second start on it is refused while the first runs, and works once it stopped', async () => {
    const dir = dataDir();
    const starts = await Promise.allSettled([startEmbeddedRedis({ dir }), startEmbeddedRedis({ dir })]);
    const ok = starts.filter((s): s is PromiseFulfilledResult<EmbeddedRedis> => s.status === 'fulfilled');
    const refused = starts.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
    expect(ok).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(isZimageError(refused[0]!.reason, 'REDIS_DIR_IN_USE')).toBe(true);
    expect(String((refused[0]!.reason as Error).message)).toContain(`port ${ok[0]!.value.port}`);
    expect(redisServersOn(dir)).toEqual([ok[0]!.value.pid]);
    await ok[0]!.value.stop();
    expect(redisServersOn(dir)).toEqual([]);
    expect(existsSync(join(dir, 'owner.json'))).toBe(false);
    const again = await startEmbeddedRedis({ dir });
    cleanups.push(() => again.stop());
    expect(redisServersOn(dir)).toEqual([again.pid]);
  }, 60_000);

  it('runs outside its parent\'s process group: a group SIGTERM reaches the parent only; Redis stops when the parent is gone', async () => {
    const dir = dataDir();
    const { parent, redis, port, output } = await parentWithRedis(dir);
    expect(pgidOf(redis)).not.toBe(pgidOf(parent));
    killGroup(parent, 'SIGTERM');
    await until(() => output().includes('got SIGTERM'), 5000, 'the parent to receive the group signal');
    const client = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0 });
    cleanups.push(() => { client.disconnect(); });
    expect(await client.ping()).toBe('PONG'); // the signal did not reach Redis
    process.kill(parent, 'SIGKILL');
    await until(() => !isAlive(redis), 5000, 'Redis to stop after its parent');
    expect(readFileSync(join(dir, 'redis.log'), 'utf8')).toMatch(/ready to exit, bye bye/i); // a clean SIGTERM shutdown
  }, 60_000);

  it('does not outlive a SIGKILLed parent', async () => {
    const dir = dataDir();
    const { parent, redis } = await parentWithRedis(dir);
    process.kill(parent, 'SIGKILL');
    await until(() => !isAlive(redis), 5000, 'Redis to stop after its parent was killed');
    await until(() => !existsSync(join(dir, 'owner.json')), 5000, 'the supervisor to remove its record as it exits');
  }, 60_000);

  it('records left by an earlier boot whose pids now belong to other processes: those are left alone, the start goes ahead', async () => {
    const dir = dataDir();
    const stranger = spawn('sleep', ['30'], { stdio: 'ignore' });
    cleanups.push(() => { stranger.kill('SIGKILL'); });
    const pid = stranger.pid!;
    writeFileSync(join(dir, 'owner.json'), JSON.stringify({ ownerPid: pid, supervisorPid: pid, redisPid: pid, port: 1, startedAt: '2020-01-01T00:00:00Z' }));
    writeFileSync(join(dir, 'redis.pid'), `${pid}\n`);
    const redis = await startEmbeddedRedis({ dir });
    cleanups.push(() => redis.stop());
    expect(isAlive(pid)).toBe(true);
    expect(redisServersOn(dir)).toEqual([redis.pid]);
    expect(JSON.parse(readFileSync(join(dir, 'owner.json'), 'utf8'))).toMatchObject({ ownerPid: process.pid, redisPid: redis.pid, port: redis.port });
  }, 60_000);

  it('without redis-server on PATH: a clear error, and nothing left behind', async () => {
    const dir = dataDir();
    const err = await startEmbeddedRedis({ dir, binary: 'redis-server-not-installed' }).catch((e: unknown) => e);
    expect(isZimageError(err, 'REDIS_SERVER_MISSING')).toBe(true);
    expect(String((err as Error).message)).toMatch(/apt-get install -y redis-server|REDIS_URL/);
    expect(existsSync(join(dir, 'owner.json'))).toBe(false);
  }, 30_000);
});
