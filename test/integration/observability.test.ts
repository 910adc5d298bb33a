/**
 * Monitoring end to end with a real bot and worker: /metrics, /status, /zimage status, the provenance
 * sidecar, GPU memory from a (fake) nvidia-smi, delivery retries and the dead-letter list, and alerts.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { BotApp } from '../../src/app/bot-app.js';
import type { ChatAdapter } from '../../src/chat/types.js';
import { ZimageError } from '../../src/errors.js';
import { GpuProbe } from '../../src/observability/gpu.js';
import {
  botReplies, finished, images, PlaygroundClient, startBot, startWorker, statusOf, testEnv, type TestEnv,
} from '../helpers/harness.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(overrides: Record<string, string> = {}): Promise<{ t: TestEnv; bot: BotApp; pg: PlaygroundClient; base: string }> {
  const t = await testEnv(overrides);
  cleanups.push(() => t.cleanup());
  const bot = await startBot(t);
  cleanups.push(() => bot.stop());
  const base = `http://127.0.0.1:${bot.boundPort}`;
  return { t, bot, pg: new PlaygroundClient(base), base };
}

const getJson = async (url: string): Promise<Record<string, unknown>> => (await (await fetch(url)).json()) as Record<string, unknown>;

describe('monitoring', () => {
  it('/metrics, /status and /zimage status tell the same story; the sidecar carries the provenance', async () => {
    const { t, bot, pg, base } = await setup();
    const before = await getJson(`${base}/status`);
    expect(before).toMatchObject({ active_requests: 0, queue_length: 0, live_workers: 0, avg_response_time_ms: null, p95_wait_ms: null, gpu_memory_used_gb: null, dead_letters: 0 });
    const worker = await startWorker(t);
    cleanups.push(() => worker.stop());
    const { threadId } = await pg.post('olga', '/zimage a red bicycle --size 256x256 --steps 2 --seed 3');
    const thread = await pg.waitFor(threadId, finished(1));

    const status = await getJson(`${base}/status`);
    expect(status).toMatchObject({ live_workers: 1, jobs_recent: 1, failure_rate: 0, queue_length: 0 });
    expect(status.p95_wait_ms).toEqual(expect.any(Number));
    expect(status.avg_response_time_ms).toEqual(expect.any(Number));
    expect(status.uptime_minutes).toBe(0);
    // Uptime counts on the monotonic clock: a wall-clock step (an NTP correction) does not add two hours.
    expect((await bot.obs.snapshot(Date.now() + 2 * 3600_000)).uptime_minutes).toBe(0);
    expect(String(status.summary)).toMatch(/^workers 1 · generating 0 · waiting 0 · p95 wait /);

    const res = await fetch(`${base}/metrics`);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const metrics = await res.text();
    for (const line of [
      'zimage_jobs_total{outcome="delivered",platform="playground"} 1',
      'zimage_job_wait_seconds_count 1', 'zimage_job_generation_seconds_count 1', 'zimage_engine_step_seconds_count 1',
      'zimage_queue_jobs{queue="generate",state="completed"} 1', 'zimage_deliveries_total{platform="playground",path="fast_lane"} 1',
      'zimage_workers_live 1', 'zimage_dead_letters 0', 'process_resident_memory_bytes',
    ]) expect(metrics).toContain(line);
    expect(metrics).toMatch(/zimage_status_edits_total\{platform="playground",result="ok"\} [1-9]/);
    expect(metrics).toContain('# TYPE zimage_quota_refusals_total counter');
    expect(metrics).not.toContain('zimage_gpu_memory_used_bytes{');
    bot.obs.quotaRefused('playground', 'limit');
    expect(await (await fetch(`${base}/metrics`)).text()).toContain('zimage_quota_refusals_total{platform="playground",reason="limit"} 1');

    // Provenance: the sidecar next to the image has every field, the PNG the same record.
    const img = images(thread)[0]!;
    const sidecar = await getJson(`${base}${img.imageUrl!.replace(/\.png$/, '.json')}`);
    expect(sidecar).toMatchObject({
      prompt: 'a red bicycle', user: 'olga', platform: 'playground', channel: 'general', seed: 3, size: '256x256', steps: 2,
      jobId: img.metadata!.jobId, template: null, model: { id: expect.any(String), version: expect.any(String) },
      timings: { queueWaitMs: expect.any(Number), generationMs: expect.any(Number) }, timestamp: expect.any(String),
    });

    // The chat view.
    const { threadId: asked } = await pg.post('olga', '/zimage status');
    const reply = await pg.waitFor(asked, (m) => botReplies(m).length > 0);
    const text = botReplies(reply)[0]!.text;
    expect(text).toContain('Workers online: 1');
    expect(text).toContain('Generating: 0 · waiting: 0');
    expect(text).toContain('Failed: 0 of 1 job (0.0 %)');
    expect(statusOf(reply)).toBeUndefined();
  });

  it('GPU memory shows up when a worker has nvidia-smi', async () => {
    const { t, bot, base } = await setup();
    const fake = join(t.dataDir, 'nvidia-smi');
    writeFileSync(fake, '#!/bin/sh\necho "0, NVIDIA A10, 12698, 23028"\n');
    chmodSync(fake, 0o755);
    const probe = new GpuProbe(bot.redis, bot.keys, 'gpu-worker-1', { binary: fake, intervalMs: 60_000 });
    expect(await probe.start()).toBe(true);
    cleanups.push(() => probe.stop());
    const missing = new GpuProbe(bot.redis, bot.keys, 'cpu-worker', { binary: join(t.dataDir, 'no-such-binary') });
    expect(await missing.start()).toBe(false);
    const status = await getJson(`${base}/status`);
    expect(status.gpu_memory_used_gb).toBe(12.4);
    expect(status.gpu_memory_total_gb).toBe(22.5);
    expect(await (await fetch(`${base}/metrics`)).text()).toContain(`zimage_gpu_memory_used_bytes{worker="gpu-worker-1",gpu="0"} ${12698 * 1024 * 1024}`);
  });

  it('/metrics asks for the token when METRICS_TOKEN is set', async () => {
    const { base } = await setup({ METRICS_TOKEN: 'metrics-token-0123456789' });
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    expect((await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401);
    expect((await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer metrics-token-0123456789' } })).status).toBe(200);
  });
});

describe('delivery faults', () => {
  function failingImages(bot: BotApp, plan: Array<'429' | '503' | 'ok'>): { calls: () => number } {
    const pg = bot.adapters.get('playground') as ChatAdapter;
    const real = pg.postImage.bind(pg);
    let n = 0;
    pg.postImage = async (thread, image, locale) => {
      const step = plan[Math.min(n++, plan.length - 1)];
      if (step === '429') throw new ZimageError('RATE_LIMITED', 'HTTP 429 from the platform', {}, { retryAfterMs: 200 });
      if (step === '503') throw new Error('HTTP 503 Service Unavailable');
      return real(thread, image, locale);
    };
    return { calls: () => n };
  }

  it('platform 429 and 5xx are retried with backoff, then the image is posted once', async () => {
    const { t, bot, pg, base } = await setup();
    const plan = failingImages(bot, ['429', '503', 'ok']);
    const worker = await startWorker(t, { DELIVERY_ATTEMPTS: '5', DELIVERY_BACKOFF_MS: '50' });
    cleanups.push(() => worker.stop());
    const { threadId } = await pg.post('paul', '/zimage a kite --size 256x256 --steps 2');
    const thread = await pg.waitFor(threadId, finished(1));
    expect(images(thread)).toHaveLength(1);
    expect(plan.calls()).toBe(3);
    expect(await bot.obs.deadLetters.count()).toBe(0);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('zimage_delivery_failures_total{platform="playground"} 2');
    expect(metrics).toContain('zimage_platform_rate_limited_total{platform="playground",operation="delivery"} 1');
  });

  it('a delivery that keeps failing ends in the dead-letter list, which /zimage status reports', async () => {
    const { t, bot, pg, base } = await setup();
    failingImages(bot, ['503']);
    const worker = await startWorker(t, { DELIVERY_ATTEMPTS: '3', DELIVERY_BACKOFF_MS: '20' });
    cleanups.push(() => worker.stop());
    const { threadId } = await pg.post('rita', '/zimage a storm --size 256x256 --steps 2');
    const thread = await pg.waitFor(threadId, (m) => statusOf(m)?.status?.phase === 'failed');
    expect(statusOf(thread)!.text).toContain('could not be posted here after several tries');
    expect(images(thread)).toHaveLength(0);
    const dead = await bot.obs.deadLetters.list();
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ kind: 'result', platform: 'playground', user: 'rita', attempts: 3, error: 'HTTP 503 Service Unavailable' });
    expect(await getJson(`${base}/status`)).toMatchObject({ dead_letters: 1, failure_rate: 1 });
    // Until roles are configured the requester is a member; make them a manager to see the count.
    const { threadId: asMember } = await pg.post('rita', '/zimage status');
    expect(botReplies(await pg.waitFor(asMember, (m) => botReplies(m).length > 0))[0]!.text).not.toContain('dead-letter');
    await bot.quota.store.setRole({ platform: 'playground', workspace: 'local' }, 'rita', 'manager');
    const { threadId: asManager } = await pg.post('rita', '/zimage status');
    expect(botReplies(await pg.waitFor(asManager, (m) => botReplies(m).length > 0))[0]!.text).toContain('(dead-letter list): 1');
  });
});

describe('alerts', () => {
  it('tells the admin thread when no worker is alive, and when it is back', async () => {
    const { t, bot, pg } = await setup();
    const admin = await pg.post('ops', 'alerts go here');
    const env = { ...t.env, ALERT_THREAD: `playground:${admin.threadId}`, ALERT_CHECK_MS: '600000' };
    const t2 = { ...t, env, config: (await import('../../src/config.js')).loadConfig(env) };
    const alerting = await startBot(t2);
    cleanups.push(() => alerting.stop());
    await bot.obs.checkAlerts(); // not configured on this replica: nothing
    await alerting.obs.checkAlerts();
    expect(botReplies(await pg.thread(admin.threadId))).toHaveLength(0); // one check is not enough
    await alerting.obs.checkAlerts();
    const fired = await pg.waitFor(admin.threadId, (m) => botReplies(m).length === 1, 5000);
    expect(botReplies(fired)[0]!.text).toContain('no worker is online');
    await alerting.obs.checkAlerts(); // resolves once the check has sent what it sends
    expect(botReplies(await pg.thread(admin.threadId))).toHaveLength(1); // not repeated within ALERT_REPEAT_MS
    const worker = await startWorker(t);
    cleanups.push(() => worker.stop());
    await alerting.obs.checkAlerts();
    const back = await pg.waitFor(admin.threadId, (m) => botReplies(m).length === 2, 5000);
    expect(botReplies(back)[1]!.text).toContain('workers back to normal');
  });
});
