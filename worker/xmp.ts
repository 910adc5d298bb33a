/**
 * Provenance embedded in every image file: the full metadata record as JSON inside an XMP packet (sharp has
 * no PNG text-chunk writer), plus the prompt as dc:description and the model as xmp:CreatorTool.
 */
import sharp from 'sharp';
import type { ImageMetadata } from '../src/jobs/types.js';

const NS = 'https://github.com/zimage-bot/ns/1.0/';

function xmlEscape(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!)
    // XML 1.0 forbids most control characters; keep tab/newline/CR only.
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, '');
}

export function buildXmp(meta: ImageMetadata): string {
  return `<?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:zimage="${NS}"
   xmp:CreatorTool="${xmlEscape(`zimage-bot · ${meta.model.name}`)}" xmp:CreateDate="${xmlEscape(meta.createdAt)}"
   zimage:metadata="${xmlEscape(JSON.stringify(meta))}">
   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">${xmlEscape(meta.prompt)}</rdf:li></rdf:Alt></dc:description>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>`;
}

/** Read the metadata record back out of a PNG written by encodePng (tests, provenance checks). */
export async function readEmbeddedMetadata(png: Buffer): Promise<ImageMetadata | null> {
  const { xmp } = await sharp(png).metadata();
  if (!xmp) return null;
  const m = /zimage:metadata="([^"]*)"/.exec(xmp.toString('utf8'));
  if (!m) return null;
  const json = m[1]!.replace(/&(lt|gt|amp|quot|apos);/g, (_, e: string) => ({ lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" })[e]!);
  return JSON.parse(json) as ImageMetadata;
}
