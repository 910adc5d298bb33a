/**
 * Usage figures from the index (per day by channel in the quota's time zone, wait p50/p95, top templates)
 * on PGlite and PostgreSQL, and the chart rendered from them: a PNG of the expected size with real content.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isZimageError } from '../../src/errors.js';
import { rowsFromStored, upsertRows } from '../../src/library/image-row.js';
import { migrate } from '../../src/library/migrations.js';
import { renderUsageChart } from '../../src/library/usage-chart.js';
import { daysBetween, usageData, type UsageData } from '../../src/library/usage.js';
import type { Viewer } from '../../src/library/visibility.js';
import { BACKENDS, openBackend, type TestBackend } from '../helpers/library-backends.js';
import { storedImage } from '../helpers/library-fixtures.js';

const manager: Viewer = { platform: 'slack', workspace: 'T1', user: 'UM', manager: true, audit: false };
const member: Viewer = { ...manager, user: 'U1', manager: false };
const TZ = 'Asia/Shanghai';
const range = { from: new Date('2026-11-23T16:00:00Z'), to: new Date('2026-11-30T16:00:00Z'), timezone: TZ }; // Nov 24–30 in Shanghai

/** Opaque ink in a PNG: how many pixels differ clearly from white. */
async function inkedPixels(png: Buffer): Promise<number> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  let n = 0;
  for (let i = 0; i < data.length; i += info.channels) if (data[i]! + data[i + 1]! + data[i + 2]! < 600) n++;
  return n;
}

describe('calendar days of a range', () => {
  it('counts each day once across daylight saving changes', () => {
    expect(daysBetween(new Date('2026-10-24T22:00:00Z'), new Date('2026-10-27T23:00:00Z'), 'Europe/Berlin')).toEqual(['2026-10-25', '2026-10-26', '2026-10-27']);
    expect(daysBetween(range.from, range.to, TZ)).toEqual(['2026-11-24', '2026-11-25', '2026-11-26', '2026-11-27', '2026-11-28', '2026-11-29', '2026-11-30']);
  });
});

describe.each(BACKENDS)('usage figures on %s', (kind) => {
  let b: TestBackend;
  let data: UsageData;
  beforeAll(async () => {
    b = await openBackend(kind);
    await migrate(b.db.kysely as never);
    const images = [
      // 23:30 Shanghai on Nov 24 is 15:30 UTC: counted on the 24th, not the 25th.
      storedImage({ channel: 'CDESIGN', createdAt: '2026-11-24T15:30:00Z', queueWaitMs: 1000 }),
      storedImage({ channel: 'CDESIGN', createdAt: '2026-11-24T16:30:00Z', queueWaitMs: 3000, template: { id: 'poster', version: 'v1' } }),
      storedImage({ channel: 'CMKT', channelKind: 'private', createdAt: '2026-11-25T02:00:00Z', queueWaitMs: 5000, template: { id: 'poster', version: 'v1' } }),
      storedImage({ channel: 'D1', channelKind: 'dm', createdAt: '2026-11-25T03:00:00Z', queueWaitMs: 7000, template: { id: 'team-avatar', version: 'v1' } }),
      storedImage({ channel: 'D2', channelKind: 'dm', createdAt: '2026-11-27T03:00:00Z', queueWaitMs: 9000 }),
      // Outside the range, and another workspace: not counted.
      storedImage({ channel: 'CDESIGN', createdAt: '2026-11-30T16:00:00Z' }),
      storedImage({ workspace: 'T2', channel: 'CDESIGN', createdAt: '2026-11-26T03:00:00Z' }),
    ];
    await upsertRows(b.db.kysely, rowsFromStored(images).rows);
    data = await usageData(b.db.kysely, manager, range);
  });
  afterAll(async () => { await b?.close(); });

  it('counts images per day by channel (DMs together), waits per day and the top templates', () => {
    expect(data.total).toBe(5);
    expect(data.days).toHaveLength(7);
    expect(data.channels).toEqual([
      { channel: null, kind: 'dm', perDay: [0, 1, 0, 1, 0, 0, 0], total: 2 },
      { channel: 'CDESIGN', kind: 'public', perDay: [1, 1, 0, 0, 0, 0, 0], total: 2 },
      { channel: 'CMKT', kind: 'private', perDay: [0, 1, 0, 0, 0, 0, 0], total: 1 },
    ]);
    expect(data.wait.p50).toEqual([1000, 5000, null, 9000, null, null, null]);
    expect(data.wait.p95).toEqual([1000, 6800, null, 9000, null, null, null]);
    expect(data.templates).toEqual([{ template: 'poster', images: 2 }, { template: null, images: 2 }, { template: 'team-avatar', images: 1 }]);
  });

  it('is for managers and auditors only', async () => {
    await expect(usageData(b.db.kysely, member, range)).rejects.toSatisfy((e) => isZimageError(e, 'LIBRARY_FORBIDDEN'));
    expect((await usageData(b.db.kysely, { ...member, audit: true }, range)).total).toBe(5);
  });

  it('renders as a PNG of the expected size with content in every panel', async () => {
    const png = await renderUsageChart(data, { locale: 'zh-CN', width: 1200, height: 900, scale: 1 });
    const meta = await sharp(png).metadata();
    expect(meta).toMatchObject({ format: 'png', width: 1200, height: 900 });
    // The stacked bars, the wait lines and the template bars each put ink in their own part of the picture.
    for (const region of [{ left: 56, top: 112, width: 1100, height: 330 }, { left: 56, top: 560, width: 480, height: 300 }, { left: 820, top: 530, width: 340, height: 330 }]) {
      expect(await inkedPixels(await sharp(png).extract(region).png().toBuffer())).toBeGreaterThan(500);
    }
    const hiDpi = await sharp(await renderUsageChart(data, { locale: 'en' })).metadata();
    expect([hiDpi.width, hiDpi.height]).toEqual([2400, 1800]);
    if (process.env.ZIMAGE_TEST_ARTIFACTS) {
      mkdirSync(process.env.ZIMAGE_TEST_ARTIFACTS, { recursive: true });
      writeFileSync(join(process.env.ZIMAGE_TEST_ARTIFACTS, `usage-${kind}-zh.png`), png);
    }
  });
});
