/**
 * How a request's latency depends on how busy the machine was just before: one request at a time, with a pause
 * of 0, 30 and 100 ms between them, to a bare Node HTTP server (a process of its own) and to the bot's
 * Playground API (a plain chat message: stored in Redis, nothing routed), and a `/zimage` command from sent to its job
 * in the queue (the ack, then routing, admission and the job's write; no workers, 20 people taking turns, each
 * remembered by the bot as someone who asked within the minute). On a machine whose processes sleep
 * between requests, every hop from one process to another (client → bot → Redis → bot) pays the time to wake
 * up; the longer the pause, the more a request costs. `node dist/test/bench/idle-latency.js`; prints one line
 * per target and pause.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, startEmbeddedRedis } from '../../src/infra/embedded-redis.js';
import { ensureDemoModel } from '../../worker/engine/demo-model/build.js';
import { startBareServer } from './bare-server.js';
import { httpJson, openSession, send } from './bench-http.js';
import { spawnNode, stopChild } from './bench-processes.js';
import { percentile } from './stats.js';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { GENERATE_QUEUE } from '../../src/jobs/queues.js';
import type { GenerateJobData } from '../../src/jobs/types.js';

const PAUSES = [0, 30, 100];
const ROUNDS = 40;

/** `one` answers how long it took (ms), or nothing: then its time from call to return is counted. */
async function measure(label: string, one: () => Promise<number | void>, warmups = 10): Promise<void> {
  for (let i = 0; i < warmups; i++) await one();
  for (const pause of PAUSES) {
    const times: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const start = performance.now();
      const took = await one();
      times.push(Math.round((typeof took === 'number' ? took : performance.now() - start) * 100) / 100);
      await sleep(pause);
    }
    process.stdout.write(`${label}, ${pause} ms between requests: p50 ${percentile(times, 50)} ms, p90 ${percentile(times, 90)} ms\n`);
  }
}

async function main(): Promise<void> {
  const body = (text: string): Buffer => Buffer.from(JSON.stringify({ user: 'idle', text }));
  const json = { 'content-type': 'application/json' };
  const bare = await startBareServer();
  await measure('bare Node HTTP server', async () => { await send(bare.base, 'POST', '/x', { body: body('hello'), headers: json }); });
  bare.stop();

  const dataDir = mkdtempSync(join(tmpdir(), 'zimage-idle-'));
  const redis = await startEmbeddedRedis({ dir: join(dataDir, 'redis') });
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const bot = spawnNode('dist/src/main/bot.js', {
    ...process.env, REDIS_URL: redis.url, DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn', CONFIG_FILE: '',
    PLAYGROUND: 'true', ZIMAGE_MODEL_DIR: await ensureDemoModel(join(tmpdir(), 'zimage-bench-model')),
  }, 'bot');
  try {
    for (const until = Date.now() + 60_000; (await httpJson(base, 'GET', '/healthz').catch(() => null))?.status !== 200;) {
      if (Date.now() > until || bot.exitCode !== null) throw new Error('the bot did not start (BENCH_DEBUG=1 shows its output)');
      await sleep(200);
    }
    await openSession(base, 'idle');
    let n = 0;
    await measure('the bot, a Playground chat message', async () => {
      const r = await send(base, 'POST', '/api/playground/messages', { body: body(`hello ${n++}`), headers: json, as: 'idle' });
      if (r.status !== 201) throw new Error(`HTTP ${r.status}: ${r.text.slice(0, 200)}`);
    });

    const people = Array.from({ length: 20 }, (_, i) => `idle${i}`);
    for (const id of people) await openSession(base, id);
    const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    const queue = new Queue<GenerateJobData>(GENERATE_QUEUE, { connection, prefix: 'zimage' });
    let k = 0;
    await measure('the bot, a /zimage command, sent → its job in the queue', async () => {
      const before = await queue.count();
      const who = people[k++ % people.length]!;
      const sentAt = performance.timeOrigin + performance.now();
      const r = await send(base, 'POST', '/api/playground/messages', { body: Buffer.from(JSON.stringify({ user: who, text: `/zimage a kite ${k}` })), headers: json, as: who });
      if (r.status !== 201) throw new Error(`HTTP ${r.status}: ${r.text.slice(0, 200)}`);
      for (const until = Date.now() + 5000; (await queue.count()) === before;) {
        if (Date.now() > until) throw new Error('the command was not queued within 5 s');
        await sleep(1);
      }
      const jobs = await queue.getJobs(['prioritized', 'waiting'], 0, -1);
      return Math.max(...jobs.map((j) => j.timestamp)) - sentAt;
    }, people.length);
    await queue.close();
    connection.disconnect();
  } finally {
    await stopChild(bot);
    await redis.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  process.exit(0);
}

void main();
