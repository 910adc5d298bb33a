/**
 * The processes' lifecycle, with real processes (dist/), real Redis and the demo model: `kill -9` of `npm start`'s
 * node process (and of its Redis supervisor too); `npm run bot` and `npm run worker` told to stop while their
 * Redis is gone. Each exits within SHUTDOWN_TIMEOUT_MS, the private Redis is never started twice on one data
 * directory, and every job is delivered once after the next start. (The SIGTERM cases: lifecycle-stop.test.ts.)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../src/infra/embedded-redis.js';
import {
  botAndWorker, cleanups, cleanUpAfterEach, connectionsWithin, deliveredOnce, EXIT_SLACK_MS, site, startAll, startedWithJob, stopAndWait,
} from '../helpers/app-lifecycle.js';
import { images, statusOf } from '../helpers/harness.js';
import { groupMembers, isAlive, killGroup, killPid, logLines, redisServersOn, spawnApp, until } from '../helpers/processes.js';

cleanUpAfterEach();

describe('npm start: kill -9', () => {
  it('of the node process: the next start runs exactly one redis-server on the data directory, nothing lost', async () => {
    const { s, redisDir, app, pg, threadId: running } = await startedWithJob({ DEMO_STEP_DELAY_MS: '300', SHUTDOWN_TIMEOUT_MS: '3000' }, '/zimage a red fox --size 256x256 --steps 8 --seed 3');
    const queued = (await pg.post('hugo', '/zimage a blue whale --size 256x256 --steps 2 --seed 4')).threadId;
    await pg.waitFor(queued, (m) => statusOf(m)?.status !== undefined, 10_000);
    killPid(app.pid, 'SIGKILL');
    await app.exited;
    const again = await startAll(s, { DEMO_STEP_DELAY_MS: '0' });
    expect(redisServersOn(redisDir)).toHaveLength(1);
    await deliveredOnce(again.pg, running);
    await deliveredOnce(again.pg, queued);
    expect(redisServersOn(redisDir)).toHaveLength(1);
    await stopAndWait(again, 3000);
    await until(() => redisServersOn(redisDir).length === 0, 5000, 'the private redis-server to stop');
  }, 120_000);

  it('of the node process and everything else in its group but Redis: the orphan is stopped, one redis-server runs, nothing lost', async () => {
    const s = await site({ DEMO_STEP_DELAY_MS: '0', SHUTDOWN_TIMEOUT_MS: '3000' });
    const redisDir = join(s.dataDir, 'redis');
    const app = await startAll(s);
    const pg = app.pg;
    const done = (await pg.post('ivy', '/zimage a paper boat --size 256x256 --steps 2 --seed 5')).threadId;
    await deliveredOnce(pg, done);
    const [orphan] = redisServersOn(redisDir);
    expect(orphan).toBeDefined();
    // SIGKILL whatever watches over the private Redis (whichever group it is in), then the node process.
    const redisGroup = Number(readFileSync(`/proc/${orphan}/stat`, 'utf8').split(') ')[1]!.split(' ')[2]);
    for (const pid of [...groupMembers(redisGroup), ...groupMembers(app.pid)]) if (pid !== orphan) killPid(pid, 'SIGKILL');
    await app.exited;
    expect(isAlive(orphan!)).toBe(true);
    const again = await startAll(s);
    const servers = redisServersOn(redisDir);
    expect(servers).toHaveLength(1);
    expect(servers[0]).not.toBe(orphan);
    expect(isAlive(orphan!)).toBe(false);
    const msgs = await again.pg.thread(done); // the data survived the orphan's stop
    expect(images(msgs)).toHaveLength(1);
    await stopAndWait(again, 3000);
  }, 120_000);
});

describe('npm run bot / npm run worker with their Redis gone', () => {
  it('each exits within the bound on SIGTERM, and says once that Redis is unreachable', async () => {
    const { redis, bot, worker } = await botAndWorker({ SHUTDOWN_TIMEOUT_MS: '2000', DEMO_STEP_DELAY_MS: '0' });
    redis.kill();
    await until(() => logLines(bot.output(), /unreachable/i).length >= 1 && logLines(worker.output(), /unreachable/i).length >= 1, 10_000,
      'both processes to notice that Redis is gone').catch(() => undefined); // asserted below, after the stop
    // Reconnect attempts pile up meanwhile — counted (the positive control of "said once"): a listener on the gone
    // server's port takes each attempt and cuts it at once.
    const attempts = await connectionsWithin(Number(new URL(redis.url).port), 2000);
    expect(attempts).toBeGreaterThanOrEqual(2);
    const [botMs, workerMs] = await Promise.all([stopAndWait(bot, 2000), stopAndWait(worker, 2000)]);
    expect(botMs).toBeLessThan(2000 + EXIT_SLACK_MS);
    expect(workerMs).toBeLessThan(2000 + EXIT_SLACK_MS);
    for (const p of [bot, worker]) {
      expect(logLines(p.output(), /unreachable/i)).toHaveLength(1);
      expect(p.output().match(/ECONNREFUSED/g)?.length ?? 0).toBeLessThanOrEqual(1);
      expect(p.output()).not.toMatch(/\n\s+at /); // no stack traces
    }
  }, 120_000);

  it('started while Redis is unreachable: each waits for it quietly and still exits within the bound on SIGTERM', async () => {
    const s = await site({ REDIS_URL: `redis://127.0.0.1:${await freePort()}`, SHUTDOWN_TIMEOUT_MS: '2000' });
    const apps = [spawnApp('src/main/bot.js', s.env), spawnApp('worker/main.js', s.env)];
    for (const a of apps) cleanups.push(() => killGroup(a.pid, 'SIGKILL'));
    await until(() => apps.every((a) => logLines(a.output(), /unreachable/i).length === 1), 60_000, 'both to report Redis unreachable');
    const ms = await Promise.all(apps.map((a) => stopAndWait(a, 2000)));
    for (const [i, a] of apps.entries()) {
      expect(ms[i]).toBeLessThan(2000 + EXIT_SLACK_MS);
      expect(logLines(a.output(), /unreachable/i)).toHaveLength(1);
      expect(a.output()).not.toMatch(/could not start|\n\s+at /);
    }
  }, 120_000);
});
