/** `GET /metrics` (Prometheus text; bearer token when METRICS_TOKEN is set) and `GET /status` (JSON + one-line summary). */
import { timingSafeEqual } from 'node:crypto';
import { normalizeLocale } from '../i18n/index.js';
import { sendJson, type HttpServer } from '../http/server.js';
import type { BotMetrics } from './metrics.js';
import { opsSummary } from './ops-text.js';
import type { OpsSnapshot } from './snapshot.js';

function tokenMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? '');
  if (!m) return false;
  const a = Buffer.from(m[1]!.trim());
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function registerMetricsRoute(http: HttpServer, metrics: BotMetrics, token?: string): void {
  http.route('GET', '/metrics', async (req, res) => {
    if (token && !tokenMatches(req.headers.authorization, token)) {
      res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer' }).end('metrics need "Authorization: Bearer <METRICS_TOKEN>"\n');
      return;
    }
    const body = await metrics.text();
    res.writeHead(200, { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store' }).end(body);
  });
}

/** `/status?locale=zh-CN` words the summary in that language (default: the bot's). */
export function registerStatusRoute(http: HttpServer, snapshot: () => Promise<OpsSnapshot>, defaultLocale: string): void {
  http.route('GET', '/status', async (req, res) => {
    const s = await snapshot();
    const asked = new URL(req.url ?? '/', 'http://localhost').searchParams.get('locale');
    sendJson(res, 200, { ...s, summary: opsSummary(s, normalizeLocale(asked ?? defaultLocale)) });
  });
}
