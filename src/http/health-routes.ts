import type { Redis } from 'ioredis';
import type { Keys } from '../jobs/keys.js';
import { liveWorkers } from '../status/workers.js';
import { sendJson, type HttpServer } from './server.js';

/** `/healthz`: the process is up. `/readyz`: Redis answers and at least one worker is alive. */
export function registerHealthRoutes(http: HttpServer, redis: Redis, keys: Keys): void {
  http.route('GET', '/healthz', (_req, res) => sendJson(res, 200, { ok: true }));
  http.route('GET', '/readyz', async (_req, res) => {
    let redisOk = false;
    let workers = 0;
    try {
      redisOk = (await redis.ping()) === 'PONG';
      workers = await liveWorkers(redis, keys);
    } catch {
      redisOk = false;
    }
    const ready = redisOk && workers > 0;
    sendJson(res, ready ? 200 : 503, { ready, redis: redisOk, workers });
  });
}
