/**
 * Image previews: a small WebP next to each image (`<key>.thumb.webp`), for galleries and history lists.
 * Made by the worker when it stores the image (from the raw pixels, alongside the full encode), and by the
 * index backfill for images stored before previews existed.
 */
import sharp from 'sharp';

/** Longest side of a preview, in pixels, and its WebP quality. */
export const THUMBNAIL = { maxSide: 256, quality: 72 } as const;

export type ThumbnailSource = Buffer | { rgb: Uint8Array; width: number; height: number };

/** A WebP preview that fits in THUMBNAIL.maxSide (never enlarged), from an encoded image or raw RGB pixels. */
export async function makeThumbnail(src: ThumbnailSource): Promise<Buffer> {
  const input = Buffer.isBuffer(src)
    ? sharp(src)
    : sharp(Buffer.from(src.rgb.buffer, src.rgb.byteOffset, src.rgb.byteLength), { raw: { width: src.width, height: src.height, channels: 3 } });
  return input
    .resize({ width: THUMBNAIL.maxSide, height: THUMBNAIL.maxSide, fit: 'inside', withoutEnlargement: true })
    .webp({ quality: THUMBNAIL.quality })
    .toBuffer();
}
