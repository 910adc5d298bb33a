/**
 * From raw RGB to the stored file: optional template post-processing (logo/watermark overlay, output
 * format and quality) and the provenance record embedded as XMP in every format.
 */
import { join, resolve, sep } from 'node:path';
import sharp, { type Gravity, type Sharp } from 'sharp';
import type { ImageExt } from '../src/assets/asset-store.js';
import { makeThumbnail } from '../src/assets/thumbnail.js';
import { ZimageError } from '../src/errors.js';
import type { ImageMetadata, PostProcessSpec } from '../src/jobs/types.js';
import { buildXmp } from './xmp.js';

const EXT: Record<PostProcessSpec['format'], ImageExt> = { png: 'png', jpeg: 'jpg', webp: 'webp' };
/**
 * zlib level 3: about a quarter faster than the default 6 for a few per cent more bytes (this is on the
 * requester's path between the GPU and the chat).
 */
const PNG = { compressionLevel: 3 } as const;

/** The file extension an image gets with this post-processing (PNG without any). */
export function imageExt(post: PostProcessSpec | undefined): ImageExt {
  return EXT[post?.format ?? 'png'];
}

async function overlayInput(spec: NonNullable<PostProcessSpec['overlay']>, width: number, templatesDir: string): Promise<Buffer> {
  const file = resolve(join(templatesDir, spec.file));
  if (!file.startsWith(resolve(templatesDir) + sep)) throw new ZimageError('INVALID_REQUEST', `overlay ${spec.file} is outside the presets directory`);
  const w = Math.max(8, Math.round(width * spec.scale));
  const margin = Math.round(width * spec.margin);
  let logo: Sharp = sharp(file, { density: 300 }).resize({ width: w }).ensureAlpha();
  if (spec.opacity < 1) {
    const alpha = Buffer.from([255, 255, 255, Math.round(255 * spec.opacity)]);
    logo = sharp(await logo.png().toBuffer()).composite([{ input: alpha, raw: { width: 1, height: 1, channels: 4 }, tile: true, blend: 'dest-in' }]);
  }
  return logo.extend({ top: margin, bottom: margin, left: margin, right: margin, background: { r: 0, g: 0, b: 0, alpha: 0 } }).png().toBuffer();
}

export async function encodeImage(
  rgb: Uint8Array, width: number, height: number, meta: ImageMetadata, post: PostProcessSpec | undefined, templatesDir: string,
): Promise<{ data: Buffer; ext: ImageExt }> {
  let img = sharp(Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength), { raw: { width, height, channels: 3 } });
  if (post?.overlay) {
    const input = await overlayInput(post.overlay, width, templatesDir);
    // Composite on a materialised base: sharp applies composite after the other operations.
    img = sharp(await img.png().toBuffer()).composite([{ input, gravity: post.overlay.gravity as Gravity }]);
  }
  img = img.withXmp(buildXmp(meta));
  const format = post?.format ?? 'png';
  const data = format === 'jpeg' ? await img.jpeg({ quality: post!.quality, mozjpeg: true }).toBuffer()
    : format === 'webp' ? await img.webp({ quality: post!.quality }).toBuffer()
      : await img.png(PNG).toBuffer();
  return { data, ext: imageExt(post) };
}

/** Encode a tiny image once, so that loading libvips, its PNG writer and the preview's WebP writer is not paid by the first requester. */
export async function warmUpEncoder(): Promise<void> {
  await sharp(Buffer.alloc(8 * 8 * 3), { raw: { width: 8, height: 8, channels: 3 } }).withXmp('<x:xmpmeta xmlns:x="adobe:ns:meta/"/>').png(PNG).toBuffer();
  await makeThumbnail({ rgb: new Uint8Array(8 * 8 * 3), width: 8, height: 8 });
}
