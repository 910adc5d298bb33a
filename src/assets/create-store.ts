/** The asset store the configuration asks for: a local directory (default, DATA_DIR/outputs) or S3-compatible storage. */
import { join } from 'node:path';
import type { Config } from '../config.js';
import type { AssetStore } from './asset-store.js';
import { LocalAssetStore } from './local-store.js';
import { S3AssetStore } from './s3-store.js';

export function createAssetStore(config: Config): AssetStore {
  const e = config.env;
  if (e.ASSET_STORE === 's3') {
    return new S3AssetStore({
      bucket: e.S3_BUCKET!, region: e.S3_REGION, prefix: e.S3_PREFIX,
      ...(e.S3_ENDPOINT ? { endpoint: e.S3_ENDPOINT } : {}),
      ...(e.S3_FORCE_PATH_STYLE !== undefined ? { forcePathStyle: e.S3_FORCE_PATH_STYLE } : {}),
      ...(e.S3_ACCESS_KEY_ID && e.S3_SECRET_ACCESS_KEY ? { credentials: { accessKeyId: e.S3_ACCESS_KEY_ID, secretAccessKey: e.S3_SECRET_ACCESS_KEY } } : {}),
    });
  }
  return new LocalAssetStore(join(config.dataDir, 'outputs'));
}
