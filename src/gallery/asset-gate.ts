/**
 * The gallery's AssetGate: a signed-in person gets an image, its preview or its sidecar exactly when the
 * library lets them see the image (visibility.ts, through `library.ofAsset`). Anything else — no session, an
 * image they may not see, one that is gone — is the asset route's one 404.
 */
import { sidecarKey } from '../assets/asset-store.js';
import { isZimageError } from '../errors.js';
import type { AssetGate } from '../http/asset-routes.js';
import type { Logger } from '../infra/logger.js';
import type { ImageRecord } from '../library/image-row.js';
import type { Viewer } from '../library/visibility.js';
import type { GallerySessions } from './sessions.js';
import type { Viewers } from './viewers.js';

export interface AssetLibrary {
  ofAsset(viewer: Viewer, key: string): Promise<ImageRecord>;
}

export function galleryAssetGate(sessions: GallerySessions, viewers: Viewers, library: AssetLibrary, log: Logger): AssetGate {
  return async (req, metadata, key) => {
    const session = await sessions.read(req);
    if (!session) return false;
    // A sidecar is served with its image: the image it describes must be the one its key names.
    const imageKey = key.endsWith('.json') ? String((metadata as { file?: unknown }).file ?? '') : key;
    if (key.endsWith('.json') && sidecarKey(imageKey) !== key) return false;
    try {
      await library.ofAsset(await viewers.of(session.identity), imageKey);
      return true;
    } catch (err) {
      if (!isZimageError(err, 'IMAGE_NOT_FOUND')) log.warn({ err, key }, 'gallery: could not check an asset request; refused');
      return false;
    }
  };
}
