import type { AssetStore } from '../assets/asset-store.js';
import { contentTypeOf, isValidKey } from '../assets/asset-store.js';
import type { HttpServer } from './server.js';

/** `GET /assets/YYYY/MM/DD/<job>-<i>.png` (and its `.json` sidecar) from the asset store. */
export function registerAssetRoutes(http: HttpServer, assets: AssetStore): void {
  http.route('GET', '/assets/*', async (_req, res, p) => {
    const key = p.rest ?? '';
    if (!isValidKey(key) || !(await assets.has(key))) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const body = await assets.get(key);
    res.writeHead(200, {
      'content-type': contentTypeOf(key),
      'cache-control': 'public, max-age=31536000, immutable',
    }).end(body);
  });
}
