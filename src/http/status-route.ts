import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Keys } from '../jobs/keys.js';
import { readSpeed } from '../status/speed.js';
import { liveWorkers } from '../status/workers.js';
import { sendJson, type HttpServer } from './server.js';

const startedAt = Date.now();

/** `GET /status`: the at-a-glance numbers the Playground status bar and operators read. */
export function registerStatusRoute(http: HttpServer, redis: Redis, keys: Keys, queue: Queue): void {
  http.route('GET', '/status', async (_req, res) => {
    const [counts, workers, msPerUnit] = await Promise.all([
      queue.getJobCounts('active', 'waiting', 'prioritized', 'delayed', 'completed', 'failed'),
      liveWorkers(redis, keys),
      readSpeed(redis, keys),
    ]);
    const queued = (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts.delayed ?? 0);
    const active = counts.active ?? 0;
    const uptimeMinutes = Math.floor((Date.now() - startedAt) / 60_000);
    // ms for one 1024×1024 image at 8 steps, from the rolling speed estimate
    const avgMs = msPerUnit === null ? null : Math.round(msPerUnit * 1.048576 * 8);
    sendJson(res, 200, {
      active_requests: active,
      queue_length: queued,
      live_workers: workers,
      avg_generation_ms_1024_8steps: avgMs,
      uptime_minutes: uptimeMinutes,
      summary: `${workers} worker${workers === 1 ? '' : 's'} · ${active} generating · ${queued} queued${avgMs === null ? '' : ` · ~${(avgMs / 1000).toFixed(1)} s per 1024² image`} · up ${uptimeMinutes} min`,
    });
  });
}
