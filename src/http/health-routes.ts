import type { Redis } from 'ioredis';
import type { Keys } from '../jobs/keys.js';
import { readiness } from './readiness.js';
import type { HttpServer } from './server.js';

/** `/healthz`: the process is up. `/readyz`: Redis answers and at least one worker is alive (bounded: readiness.ts). */
export function registerHealthRoutes(http: HttpServer, redis: Redis, keys: Keys): void {
  http.app.get('/healthz', async () => ({ ok: true }));
  http.app.get('/readyz', async (_req, reply) => {
    const r = await readiness(redis, keys);
    return reply.code(r.ready ? 200 : 503).send(r);
  });
}
