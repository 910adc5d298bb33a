import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { provenanceRecord } from '../../src/assets/provenance.js';
import { deliveryBackoff } from '../../src/delivery/backoff.js';
import { ZimageError } from '../../src/errors.js';
import { createLogger, scrubSecrets, secretValues } from '../../src/infra/logger.js';
import type { ImageMetadata } from '../../src/jobs/types.js';
import { alertText, firingConditions, type AlertSettings } from '../../src/observability/alerts.js';
import { parseNvidiaSmi, totalGpuMemory } from '../../src/observability/gpu.js';
import { opsReport, opsSummary } from '../../src/observability/ops-text.js';
import { quantile, summarize, type FinishedJob } from '../../src/observability/recent-jobs.js';
import type { OpsSnapshot } from '../../src/observability/snapshot.js';

const snap = (over: Partial<OpsSnapshot> = {}): OpsSnapshot => ({
  active_requests: 1, queue_length: 4, live_workers: 2, avg_response_time_ms: 2400, p95_wait_ms: 5200, mean_wait_ms: 1800,
  failure_rate: 0.05, jobs_recent: 40, failures_recent: 2, window_minutes: 15, gpu_memory_used_gb: null, gpu_memory_total_gb: null,
  avg_generation_ms_1024_8steps: 1900, dead_letters: 0, uptime_minutes: 125, ...over,
});

describe('recent jobs window', () => {
  it('nearest-rank quantiles', () => {
    expect(quantile([], 0.95)).toBeNull();
    expect(quantile([5], 0.95)).toBe(5);
    expect(quantile(Array.from({ length: 100 }, (_, i) => i + 1), 0.95)).toBe(95);
    expect(quantile([3, 1, 2], 0.5)).toBe(2);
  });

  it('failure rate leaves cancelled jobs out; waits only from jobs that ran', () => {
    const at = 0;
    const jobs: FinishedJob[] = [
      { jobId: 'a', outcome: 'delivered', waitMs: 100, totalMs: 1100, at },
      { jobId: 'b', outcome: 'delivered', waitMs: 300, totalMs: 1300, at },
      { jobId: 'c', outcome: 'failed', waitMs: null, totalMs: 50, at },
      { jobId: 'd', outcome: 'cancelled', waitMs: null, totalMs: 10, at },
      { jobId: 'e', outcome: 'dead_lettered', waitMs: null, totalMs: 9000, at },
    ];
    const s = summarize(jobs);
    expect(s).toMatchObject({ jobs: 5, failures: 2, p95WaitMs: 300, meanWaitMs: 200, avgResponseMs: 1200 });
    expect(s.failureRate).toBeCloseTo(2 / 4);
    expect(summarize([]).failureRate).toBeNull();
  });
});

describe('status texts', () => {
  it('the chat report shows the dead-letter count only to managers and only when there are some', () => {
    const withDead = snap({ dead_letters: 3 });
    expect(opsReport(withDead, 'en', { showDeadLetters: true })).toContain('dead-letter list): 3');
    expect(opsReport(withDead, 'en', { showDeadLetters: false })).not.toContain('dead-letter');
    expect(opsReport(snap(), 'en', { showDeadLetters: true })).not.toContain('dead-letter');
    expect(opsReport(snap(), 'zh-CN', { showDeadLetters: true })).toContain('在线工作节点：2');
  });

  it('says when no worker is online and when there is no data yet', () => {
    const text = opsReport(snap({ live_workers: 0, p95_wait_ms: null, mean_wait_ms: null, failure_rate: null }), 'en', { showDeadLetters: false });
    expect(text).toContain('No worker is online');
    expect(text).toContain('no data yet');
    expect(opsSummary(snap(), 'en')).toBe('workers 2 · generating 1 · waiting 4 · p95 wait 5.2 s · up 2 h 5 min');
  });

  it('counts failed jobs in words that fit the number', () => {
    expect(opsReport(snap({ jobs_recent: 1, failures_recent: 0, failure_rate: 0 }), 'en', { showDeadLetters: false })).toContain('Failed: 0 of 1 job (0.0 %)');
    expect(opsReport(snap(), 'en', { showDeadLetters: false })).toContain('Failed: 2 of 40 jobs (5.0 %)');
    expect(opsReport(snap({ jobs_recent: 1, failures_recent: 1, failure_rate: 1 }), 'zh-CN', { showDeadLetters: false })).toContain('失败：1 个任务中有 1 个');
  });

  it('shows GPU memory when a worker reports it', () => {
    expect(opsReport(snap({ gpu_memory_used_gb: 12.4, gpu_memory_total_gb: 24 }), 'en', { showDeadLetters: false })).toContain('GPU memory: 12.4 GB of 24.0 GB');
  });
});

describe('alerts', () => {
  const a: AlertSettings = { thread: 'playground:m1', p95WaitMs: 60_000, failureRate: 0.1, minJobs: 10, noWorker: true, checkMs: 1000, repeatMs: 60_000, locale: 'en' };
  it('fire on p95 wait, failure rate (with enough jobs) and no worker', () => {
    expect([...firingConditions(snap(), a)]).toEqual([]);
    expect([...firingConditions(snap({ p95_wait_ms: 61_000 }), a)]).toEqual(['p95_wait']);
    expect([...firingConditions(snap({ failure_rate: 0.5, jobs_recent: 9 }), a)]).toEqual([]);
    expect([...firingConditions(snap({ failure_rate: 0.5, jobs_recent: 10 }), a)]).toEqual(['failure_rate']);
    expect([...firingConditions(snap({ live_workers: 0 }), a)]).toEqual(['no_worker']);
    expect([...firingConditions(snap({ live_workers: 0 }), { ...a, noWorker: false })]).toEqual([]);
    expect(alertText('failure_rate', snap({ failure_rate: 0.25 }), a)).toContain('25 % of the last 40 jobs failed (threshold 10 %)');
  });
});

describe('GPU memory from nvidia-smi', () => {
  it('parses the CSV and sums every GPU', () => {
    const gpus = parseNvidiaSmi('0, NVIDIA A10, 12698, 23028\n1, NVIDIA A10, 100, 23028\n\ngarbage\n');
    expect(gpus).toHaveLength(2);
    expect(gpus[0]).toMatchObject({ index: 0, name: 'NVIDIA A10', usedBytes: 12698 * 1024 * 1024 });
    const total = totalGpuMemory(new Map([['w1', { gpus, at: 0 }]]));
    expect(total?.usedBytes).toBe((12698 + 100) * 1024 * 1024);
    expect(totalGpuMemory(new Map())).toBeNull();
  });
});

describe('delivery backoff', () => {
  const job = { opts: { backoff: { type: 'delivery', delay: 1000 } } };
  it('is exponential and never shorter than Retry-After', () => {
    expect(deliveryBackoff(1, 'delivery', new Error('500'), job)).toBe(1000);
    expect(deliveryBackoff(3, 'delivery', new Error('500'), job)).toBe(4000);
    expect(deliveryBackoff(1, 'delivery', new ZimageError('RATE_LIMITED', '429', {}, { retryAfterMs: 30_000 }), job)).toBe(30_000);
    expect(deliveryBackoff(30, 'delivery', new Error('500'), job)).toBe(15 * 60_000);
  });
});

describe('logs never carry secrets', () => {
  const capture = (): { lines: string[]; stream: Writable & { write: (s: string) => boolean } } => {
    const lines: string[] = [];
    const stream = new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } });
    return { lines, stream: stream as Writable & { write: (s: string) => boolean } };
  };

  it('a token from the configuration is scrubbed wherever it appears, also inside messages and errors', () => {
    const env = {
      SLACK_BOT_TOKEN: 'xoxb-1111-2222-abcdefSECRET', LARK_APP_SECRET: 'lark-secret-value-42', S3_SECRET_ACCESS_KEY: 's3-very-secret-key',
      REDIS_URL: 'redis://:hunter2pass@redis.internal:6379', LOG_LEVEL: 'info',
    };
    const { lines, stream } = capture();
    const log = createLogger('info', {}, { secrets: secretValues(env), destination: stream });
    log.info({ env, jobId: 'j1', user: 'u1', platform: 'slack' }, 'config loaded');
    log.warn({ err: new Error('auth failed for token xoxb-1111-2222-abcdefSECRET at redis://:hunter2pass@redis.internal:6379') }, 'lark-secret-value-42 rejected');
    log.info({ nested: { token: 'abc', headers: { authorization: 'Bearer zzzzzzzzzzzz' } }, url: 'https://user:pw12345@example.com/x' }, 'call s3-very-secret-key');
    const out = lines.join('');
    for (const secret of ['xoxb-1111-2222-abcdefSECRET', 'lark-secret-value-42', 's3-very-secret-key', 'hunter2pass', 'zzzzzzzzzzzz', 'pw12345']) {
      expect(out).not.toContain(secret);
    }
    expect(out).toContain('[redacted]');
    const first = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(first).toMatchObject({ jobId: 'j1', user: 'u1', platform: 'slack', msg: 'config loaded' });
  });

  it('catches Slack-shaped tokens nobody declared', () => {
    expect(scrubSecrets('{"msg":"xapp-1-A0-123456789-abcdef"}', [])).not.toContain('123456789');
  });
});

describe('provenance sidecar', () => {
  it('has every field the issue lists, template null for a free prompt', () => {
    const meta: ImageMetadata = {
      jobId: 'j1', index: 0, prompt: 'a cat', seed: 7, width: 512, height: 768, steps: 8, model: { id: 'zimage-demo', name: 'demo model', demo: true, version: 'abc123' },
      platform: 'slack', workspace: 'T1', channel: 'C1', user: 'U1', createdAt: '2026-11-24T10:00:00.000Z', queueWaitMs: 12, generationMs: 900, stepMs: 110,
    };
    const rec = provenanceRecord(meta, '2026/11/24/j1-0.png');
    expect(rec).toMatchObject({
      prompt: 'a cat', user: 'U1', platform: 'slack', channel: 'C1', timestamp: '2026-11-24T10:00:00.000Z',
      model: { id: 'zimage-demo', version: 'abc123' }, template: null, seed: 7, size: '512x768', steps: 8, jobId: 'j1',
      timings: { queueWaitMs: 12, generationMs: 900, stepMs: 110 }, file: '2026/11/24/j1-0.png',
    });
  });
});
