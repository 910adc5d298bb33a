/**
 * The processes' lifecycle, with real processes (dist/), real Redis and the demo model: a process-group SIGTERM
 * (a terminal's Ctrl+C, systemd) during a running job, with and without the private Redis dying at the same
 * moment; the private Redis SIGKILLed mid-job; `npm run worker` told to stop while a job runs longer than the
 * bound. Each exits within SHUTDOWN_TIMEOUT_MS and every job is delivered once. (The kill -9 and Redis-gone
 * cases are in lifecycle-kill.test.ts, so the two files run side by side.)
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  botAndWorker, cleanups, cleanUpAfterEach, deliveredOnce, EXIT_SLACK_MS, generatingJob, startAll, startedWithJob, stopAndWait,
} from '../helpers/app-lifecycle.js';
import { images } from '../helpers/harness.js';
import { killGroup, killPid, logLines, redisServersOn, spawnApp, until } from '../helpers/processes.js';

cleanUpAfterEach();

describe('npm start: group SIGTERM during a running job', () => {
  it('the job finishes inside the bound, is delivered, and everything (the private Redis last) stops', async () => {
    const { s, app, threadId } = await startedWithJob({ DEMO_STEP_DELAY_MS: '250', SHUTDOWN_TIMEOUT_MS: '6000' }, '/zimage a lighthouse --size 256x256 --steps 6 --seed 1');
    const ms = await stopAndWait(app, 6000);
    expect(ms).toBeLessThan(6000 + EXIT_SLACK_MS);
    expect(logLines(app.output(), /^generated$/), app.output().slice(-4000)).toHaveLength(1); // finished before the exit
    expect(logLines(app.output(), /^delivered$/)).toHaveLength(1);
    await until(() => redisServersOn(join(s.dataDir, 'redis')).length === 0, 5000, 'the private redis-server to stop');
    const again = await startAll(s);
    await deliveredOnce(again.pg, threadId);
    await stopAndWait(again, 6000);
  }, 120_000);

  it('with the private Redis SIGTERMed at the same moment: exits within the bound; the job is delivered once after the next start', async () => {
    const { s, redisDir, app, threadId } = await startedWithJob({ DEMO_STEP_DELAY_MS: '400', SHUTDOWN_TIMEOUT_MS: '2500' }, '/zimage a storm at sea --size 256x256 --steps 10 --seed 2');
    const [redisPid] = redisServersOn(redisDir);
    expect(redisPid).toBeDefined();
    killPid(redisPid!, 'SIGTERM'); // what systemd's default KillMode=control-group does to every process of the unit
    const ms = await stopAndWait(app, 2500);
    expect(ms).toBeLessThan(2500 + EXIT_SLACK_MS);
    expect(logLines(app.output(), /^generated$/)).toHaveLength(0); // it was cut short
    const again = await startAll(s, { DEMO_STEP_DELAY_MS: '0' });
    const msgs = await deliveredOnce(again.pg, threadId);
    expect(images(msgs)[0]!.metadata!.seed).toBe(2);
    await stopAndWait(again, 2500);
  }, 120_000);
});

describe('npm start: its private Redis SIGKILLed mid-job', () => {
  it('/readyz says 503 within 1 s; npm start starts Redis again on the same port and data; the job is delivered once', async () => {
    const { redisDir, app, pg, threadId } = await startedWithJob({ DEMO_STEP_DELAY_MS: '200', SHUTDOWN_TIMEOUT_MS: '3000' }, '/zimage a windmill --size 256x256 --steps 10 --seed 7');
    const [dead] = redisServersOn(redisDir);
    killPid(dead!, 'SIGKILL');
    const t0 = Date.now();
    const res = await fetch(`http://127.0.0.1:${app.port}/readyz`, { signal: AbortSignal.timeout(5000) });
    expect(res.status).toBe(503);
    expect(Date.now() - t0).toBeLessThan(1000);
    await deliveredOnce(pg, threadId);
    const servers = redisServersOn(redisDir);
    expect(servers).toHaveLength(1);
    expect(servers[0]).not.toBe(dead);
    expect(logLines(app.output(), /running again/)).toHaveLength(1);
    await stopAndWait(app, 3000);
  }, 120_000);
});

describe('npm run worker: SIGTERM while a job runs longer than the bound', () => {
  it('exits within the bound and hands the job back at once: another worker delivers it once, long before its lock would expire', async () => {
    // A 60 s lock: were the job left to the stalled-job check, the second worker could not have it for a minute.
    const { s, bot, worker: first, pg } = await botAndWorker({ SHUTDOWN_TIMEOUT_MS: '2000', DEMO_STEP_DELAY_MS: '400', WORKER_LOCK_MS: '60000', WORKER_STALLED_INTERVAL_MS: '30000' });
    const threadId = await generatingJob(pg, '/zimage an old mill --size 256x256 --steps 12 --seed 6');
    const ms = await stopAndWait(first, 2000);
    expect(ms).toBeLessThan(2000 + EXIT_SLACK_MS);
    expect(logLines(first.output(), /handed back to the queue/)).toHaveLength(1);
    const handedBack = Date.now();
    const second = spawnApp('worker/main.js', { ...s.env, DEMO_STEP_DELAY_MS: '0' });
    cleanups.push(() => killGroup(second.pid, 'SIGKILL'));
    const msgs = await deliveredOnce(pg, threadId);
    expect(Date.now() - handedBack).toBeLessThan(30_000); // the lock (60 s) did not have to expire
    expect(images(msgs)[0]!.metadata!.seed).toBe(6);
    await Promise.all([stopAndWait(second, 2000), stopAndWait(bot, 2000)]);
  }, 120_000);
});
