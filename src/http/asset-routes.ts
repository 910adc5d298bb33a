import type { AssetStore } from '../assets/asset-store.js';
import { contentTypeOf, isValidKey } from '../assets/asset-store.js';
import { errorBody, type HttpServer } from './server.js';

/** `GET /assets/YYYY/MM/DD/<job>-<i>.png` (and its `.json` sidecar) from the asset store. */
export function registerAssetRoutes(http: HttpServer, assets: AssetStore): void {
  http.app.get<{ Params: { '*': string } }>('/assets/*', async (req, reply) => {
    const key = req.params['*'] ?? '';
    if (!isValidKey(key) || !(await assets.has(key))) return reply.code(404).send(errorBody('NOT_FOUND', 'not found'));
    const body = await assets.get(key);
    return reply.header('content-type', contentTypeOf(key)).header('cache-control', 'private, max-age=31536000, immutable').send(body);
  });
}
