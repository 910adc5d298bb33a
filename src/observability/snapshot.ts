/**
 * The operational numbers at a glance, in one place: `GET /status`, `/zimage status` in chat and the
 * alerts all read this snapshot, so they never disagree. Field names follow the deployment guide the
 * product grew from (active_requests, queue_length, avg_response_time_ms, gpu_memory_used_gb, uptime_minutes).
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Keys } from '../jobs/keys.js';
import type { GenerateJobData } from '../jobs/types.js';
import { readSpeed } from '../jobs/speed.js';
import { WORKER_TTL_MS } from '../jobs/workers.js';
import type { DeadLetters } from './dead-letters.js';
import { readGpuSamples, totalGpuMemory } from './gpu.js';
import type { RecentJobs } from './recent-jobs.js';

export interface OpsSnapshot {
  /** Jobs running on a worker now. */
  active_requests: number;
  /** Jobs waiting (including retries waiting for their backoff). */
  queue_length: number;
  live_workers: number;
  /** Mean time from command to result posted, over the recent window; null before the first result. */
  avg_response_time_ms: number | null;
  p95_wait_ms: number | null;
  mean_wait_ms: number | null;
  failure_rate: number | null;
  jobs_recent: number;
  failures_recent: number;
  window_minutes: number;
  /** Summed over the live workers' GPUs; null where no worker has nvidia-smi. */
  gpu_memory_used_gb: number | null;
  gpu_memory_total_gb: number | null;
  /** Rolling engine speed for one 1024×1024 image at 8 steps. */
  avg_generation_ms_1024_8steps: number | null;
  dead_letters: number;
  uptime_minutes: number;
}

export interface SnapshotDeps {
  redis: Redis;
  keys: Keys;
  queue: Queue<GenerateJobData>;
  recent: RecentJobs;
  deadLetters: DeadLetters;
  /** How long the bot has run, on the monotonic clock (a wall-clock step does not change it). */
  uptimeMs: number;
}

export interface WorkerBeat { id: string; ageMs: number }

/** Every worker that sent a heartbeat recently, live or not, with the age of its last beat. */
export async function workerBeats(redis: Redis, keys: Keys, now = Date.now()): Promise<WorkerBeat[]> {
  const raw = await redis.zrange(keys.workers(), '0', '-1', 'WITHSCORES');
  const out: WorkerBeat[] = [];
  for (let i = 0; i < raw.length; i += 2) out.push({ id: raw[i]!, ageMs: Math.max(0, now - Number(raw[i + 1])) });
  return out;
}

const GB = 1024 ** 3;
const round1 = (x: number): number => Math.round(x * 10) / 10;

export async function takeSnapshot(d: SnapshotDeps, now = Date.now()): Promise<OpsSnapshot> {
  const [counts, beats, msPerUnit, recent, gpu, dead] = await Promise.all([
    d.queue.getJobCounts('active', 'waiting', 'prioritized', 'delayed'),
    workerBeats(d.redis, d.keys, now),
    readSpeed(d.redis, d.keys),
    d.recent.summary(now),
    readGpuSamples(d.redis, d.keys, now),
    d.deadLetters.count(),
  ]);
  const mem = totalGpuMemory(gpu);
  return {
    active_requests: counts.active ?? 0,
    queue_length: (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts.delayed ?? 0),
    live_workers: beats.filter((b) => b.ageMs <= WORKER_TTL_MS).length,
    avg_response_time_ms: recent.avgResponseMs,
    p95_wait_ms: recent.p95WaitMs,
    mean_wait_ms: recent.meanWaitMs,
    failure_rate: recent.failureRate === null ? null : Math.round(recent.failureRate * 10_000) / 10_000,
    jobs_recent: recent.jobs,
    failures_recent: recent.failures,
    window_minutes: recent.windowMinutes,
    gpu_memory_used_gb: mem ? round1(mem.usedBytes / GB) : null,
    gpu_memory_total_gb: mem ? round1(mem.totalBytes / GB) : null,
    // ms per megapixel-step × 1.048576 MP × 8 steps
    avg_generation_ms_1024_8steps: msPerUnit === null ? null : Math.round(msPerUnit * 1.048576 * 8),
    dead_letters: dead,
    uptime_minutes: Math.floor(d.uptimeMs / 60_000),
  };
}
