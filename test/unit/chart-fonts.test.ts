/**
 * Chinese text in server-rendered charts is drawn with a real CJK font, not as boxes. A missing glyph is
 * drawn by the text renderer as a box around the code point's hex digits, which puts ink over the box's full
 * height; 一 (one horizontal stroke) puts ink in a thin band only. The positive control is a code point that
 * no font draws. Needs a CJK font on the machine (README: fonts-noto-cjk or fonts-wqy-microhei; .ci/run installs one).
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { FONT_FAMILY } from '../../src/library/usage-chart.js';

/** Rows of a 96 px rendering of `text` that carry ink. */
async function inkRows(text: string): Promise<number> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="160" height="96"><rect width="160" height="96" fill="#fff"/>`
    + `<text x="8" y="76" font-size="72" font-family="${FONT_FAMILY.replace(/"/g, '&quot;')}">${text}</text></svg>`;
  const { data, info } = await sharp(Buffer.from(svg)).removeAlpha().greyscale().raw().toBuffer({ resolveWithObject: true });
  let rows = 0;
  for (let y = 0; y < info.height; y++) {
    const row = data.subarray(y * info.width, (y + 1) * info.width);
    if (row.some((v) => v < 128)) rows++;
  }
  return rows;
}

describe('chart fonts', () => {
  it('draw Chinese characters as glyphs, not as boxes', async () => {
    const missing = await inkRows('\u{10FFFD}'); // no font has it: the renderer's box
    expect(missing).toBeGreaterThan(30);
    const one = await inkRows('一');
    expect(one).toBeGreaterThan(0);
    expect(one).toBeLessThan(14);
  });
});
