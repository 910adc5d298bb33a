/** `GET /metrics` (Prometheus text; bearer token when METRICS_TOKEN is set) and `GET /status` (JSON + one-line summary). */
import { normalizeLocale } from '../i18n/index.js';
import { bearerMatches } from '../http/secret-compare.js';
import type { HttpServer } from '../http/server.js';
import type { BotMetrics } from './metrics.js';
import { opsSummary } from './ops-text.js';
import type { OpsSnapshot } from './snapshot.js';

export function registerMetricsRoute(http: HttpServer, metrics: BotMetrics, token?: string): void {
  http.app.get('/metrics', async (req, reply) => {
    if (token && !bearerMatches(req.headers.authorization, token)) {
      return reply.code(401).header('content-type', 'text/plain; charset=utf-8').header('www-authenticate', 'Bearer')
        .send('metrics need "Authorization: Bearer <METRICS_TOKEN>"\n');
    }
    const body = await metrics.text();
    return reply.header('content-type', metrics.registry.contentType).send(body);
  });
}

/** `/status?locale=zh-CN` words the summary in that language (default: the bot's). */
export function registerStatusRoute(http: HttpServer, snapshot: () => Promise<OpsSnapshot>, defaultLocale: () => string): void {
  http.app.get<{ Querystring: { locale?: unknown } }>('/status', async (req) => {
    const s = await snapshot();
    const asked = typeof req.query.locale === 'string' ? req.query.locale : undefined;
    return { ...s, summary: opsSummary(s, normalizeLocale(asked ?? defaultLocale())) };
  });
}
