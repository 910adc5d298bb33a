/** Images as the worker records them, for library tests: one call per image with what differs. */
import { imageKey, thumbnailKey } from '../../src/assets/asset-store.js';
import type { ImageMetadata, StoredImage } from '../../src/jobs/types.js';

let n = 0;

export function storedImage(o: Partial<ImageMetadata> & { at?: string } = {}): StoredImage {
  n++;
  const jobId = o.jobId ?? `j${n.toString(36).padStart(6, '0')}`;
  const index = o.index ?? 0;
  const createdAt = o.createdAt ?? o.at ?? new Date(Date.UTC(2026, 10, 1) + n * 60_000).toISOString();
  const key = imageKey(jobId, index, new Date(createdAt));
  const metadata: ImageMetadata = {
    jobId, index, prompt: 'a ginger cat on a windowsill', seed: 7, width: 512, height: 512, steps: 8,
    model: { id: 'demo', name: 'demo model', demo: true, version: '1' }, template: null,
    platform: 'slack', workspace: 'T1', channel: 'C1', channelKind: 'public', user: 'U1', userName: 'alice',
    createdAt, queueWaitMs: 1200, generationMs: 800, stepMs: 95.5, thumbnailKey: thumbnailKey(key),
    ...o,
  };
  delete (metadata as { at?: string }).at;
  return { key, metadata };
}
