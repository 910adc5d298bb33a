/**
 * The provenance record of one image: the JSON sidecar next to it in the asset store. The PNG embeds the
 * ImageMetadata it is built from (XMP, worker/png.ts), so file and sidecar carry the same facts.
 */
import type { ImageMetadata } from '../jobs/types.js';

export const PROVENANCE_SCHEMA = 'zimage-provenance/1';

export interface ProvenanceRecord extends Omit<ImageMetadata, 'model' | 'template'> {
  schema: typeof PROVENANCE_SCHEMA;
  /** Asset key of the image. */
  file: string;
  /** When the image was made (ISO 8601, same as createdAt). */
  timestamp: string;
  size: string;
  model: { id: string; name: string; demo: boolean; version: string | null };
  template: { id: string; version: string } | null;
  timings: { queueWaitMs: number; generationMs: number; stepMs: number | null };
}

export function provenanceRecord(meta: ImageMetadata, file: string): ProvenanceRecord {
  return {
    schema: PROVENANCE_SCHEMA,
    file,
    ...meta,
    timestamp: meta.createdAt,
    size: `${meta.width}x${meta.height}`,
    model: { ...meta.model, version: meta.model.version ?? null },
    template: meta.template ?? null,
    timings: { queueWaitMs: meta.queueWaitMs, generationMs: meta.generationMs, stepMs: meta.stepMs ?? null },
  };
}
