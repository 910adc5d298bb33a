import type { Redis } from 'ioredis';
import type { Keys } from '../jobs/keys.js';
import { liveWorkers } from '../status/workers.js';
import type { HttpServer } from './server.js';

/** `/healthz`: the process is up. `/readyz`: Redis answers and at least one worker is alive. */
export function registerHealthRoutes(http: HttpServer, redis: Redis, keys: Keys): void {
  http.app.get('/healthz', async () => ({ ok: true }));
  http.app.get('/readyz', async (_req, reply) => {
    let redisOk = false;
    let workers = 0;
    try {
      redisOk = (await redis.ping()) === 'PONG';
      workers = await liveWorkers(redis, keys);
    } catch {
      redisOk = false;
    }
    const ready = redisOk && workers > 0;
    return reply.code(ready ? 200 : 503).send({ ready, redis: redisOk, workers });
  });
}
