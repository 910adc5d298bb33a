/**
 * `GET /assets/YYYY/MM/DD/<job>-<i>.png` (and its `.json` sidecar). Assets are private: an image is served
 * only to a request that one of the gates entitles to it (the Playground session for Playground images, a
 * gallery session for the images its person may see);
 * anything else — a missing key, an image of another platform, no entitlement — is the same 404, so a
 * guessed key tells nothing. Slack and Lark get their images by upload and need no URL at all.
 */
import type { AssetStore } from '../assets/asset-store.js';
import { contentTypeOf, isValidKey } from '../assets/asset-store.js';
import type { ImageMetadata } from '../jobs/types.js';
import { errorBody, type FastifyRequest, type HttpServer } from './server.js';

/** Whether this request may see the asset `key` (an image, its preview or its sidecar) with this provenance. */
export type AssetGate = (req: FastifyRequest, metadata: ImageMetadata, key: string) => boolean | Promise<boolean>;

export function registerAssetRoutes(http: HttpServer, assets: AssetStore, gates: readonly AssetGate[]): void {
  http.app.get<{ Params: { '*': string } }>('/assets/*', async (req, reply) => {
    const key = req.params['*'] ?? '';
    const notFound = () => reply.code(404).send(errorBody('NOT_FOUND', 'not found'));
    if (!isValidKey(key)) return notFound();
    const metadata = await provenanceOf(assets, key);
    if (!metadata) return notFound();
    let entitled = false;
    for (const gate of gates) if (!entitled && (await gate(req, metadata, key))) entitled = true;
    if (!entitled) return notFound();
    let body: Buffer;
    try {
      body = await assets.get(key);
    } catch {
      return notFound();
    }
    return reply.header('content-type', contentTypeOf(key)).header('cache-control', 'private, max-age=86400').send(body);
  });
}

/** The provenance record of an image key (its sidecar), or of a sidecar key (itself); null when unreadable. */
async function provenanceOf(assets: AssetStore, key: string): Promise<ImageMetadata | null> {
  let value: unknown;
  try {
    value = key.endsWith('.json') ? JSON.parse((await assets.get(key)).toString('utf8')) : await assets.sidecar(key);
  } catch {
    return null;
  }
  return typeof value === 'object' && value !== null && typeof (value as ImageMetadata).platform === 'string' ? (value as ImageMetadata) : null;
}
