/**
 * End to end on the embedded default (PGlite under DATA_DIR/db, as `npm start` runs it): a Playground
 * command's image lands in the index — written by the bot as it delivers — with its preview stored by the
 * worker next to it, and the channel kind recorded in the sidecar and the row.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { BotApp } from '../../src/app/bot-app.js';
import type { Viewer } from '../../src/library/visibility.js';
import type { AssetStore } from '../../src/assets/asset-store.js';
import { createAssetStore } from '../../src/assets/create-store.js';
import { finished, images, PlaygroundClient, startBot, startPlaygroundStack, startWorker, testEnv, type PlaygroundStack, type TestEnv } from '../helpers/harness.js';

describe('the image library on the embedded default', () => {
  let stack: PlaygroundStack;
  let t: TestEnv;
  let bot: BotApp;
  let pg: PlaygroundClient;
  const alice: Viewer = { platform: 'playground', workspace: 'local', user: 'alice', manager: false, audit: false };

  beforeAll(async () => {
    stack = await startPlaygroundStack({ DATABASE_URL: '', DELIVERY_BACKOFF_MS: '20' });
    ({ t, bot, pg } = stack);
  });
  afterAll(async () => { await stack?.stop(); });

  it("a Playground command's image is in the index when \"Done\" shows, and its preview shortly after", async () => {
    expect(bot.library.kind).toBe('pglite');
    expect(existsSync(join(t.dataDir, 'db', 'PG_VERSION'))).toBe(true);
    const { threadId } = await pg.post('Alice', '/zimage 蓝色科技感手机海报 --seed 7 --size 512x512 --steps 2');
    const [posted] = images(await pg.waitFor(threadId, finished(1)));
    const jobId = posted!.metadata!.jobId;
    // The row is written before "Done" shows.
    const { images: found } = await bot.library.list(alice, { search: '海报' });
    expect(found).toHaveLength(1);
    const image = found[0]!;
    expect(image).toMatchObject({
      id: `${jobId}-0`, jobId, index: 0, prompt: '蓝色科技感手机海报', seed: 7, width: 512, height: 512, steps: 2,
      platform: 'playground', workspace: 'local', channel: 'general', channelKind: 'playground', user: 'alice', userName: 'Alice',
      model: { name: 'demo model', demo: true }, template: null, legalHold: false, deleted: null,
      assetKey: posted!.imageUrl!.replace('/assets/', ''), thumbnailKey: posted!.imageUrl!.replace('/assets/', '').replace('.png', '.thumb.webp'),
    });
    expect(image.timings.generationMs).toBeGreaterThan(0);
    // The preview is made once the image is on its way, stored next to it and served like it.
    const res = await vi.waitFor(async () => {
      const r = await fetch(`${pg.base}/assets/${image.thumbnailKey}`);
      expect(r.status).toBe(200);
      return r;
    }, { timeout: 5000, interval: 20 });
    expect(res.headers.get('content-type')).toBe('image/webp');
    const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', 256, 256]);
    // The sidecar names the preview and the channel kind, like the row.
    const sidecar = await (await fetch(`${pg.base}/assets/${image.assetKey.replace('.png', '.json')}`)).json() as Record<string, unknown>;
    expect(sidecar).toMatchObject({ thumbnailKey: image.thumbnailKey, channelKind: 'playground', file: image.assetKey });
    // The Playground is one shared channel: everyone in it sees the image.
    expect((await bot.library.get({ ...alice, user: 'bob' }, image.id)).id).toBe(image.id);
    expect(await bot.library.count(alice)).toBe(1);
  });

  it('a delivery whose post fails and is retried writes one row, and posts the image once', async () => {
    const playground = bot.adapters.get('playground')!;
    const post = playground.postImage.bind(playground);
    let failures = 0;
    // The platform refuses the first post: the fast lane hands the delivery to its durable job, which retries.
    playground.postImage = async (...args) => {
      if (failures++ === 0) throw new Error('platform 503');
      return post(...args);
    };
    try {
      const { threadId } = await pg.post('Alice', '/zimage a lighthouse in a storm --seed 3 --size 256x256 --steps 1');
      const [posted] = images(await pg.waitFor(threadId, finished(1), 30_000));
      expect(failures).toBe(2);
      expect(images(await pg.thread(threadId))).toHaveLength(1);
      const { images: found } = await bot.library.list(alice, { search: 'lighthouse' });
      expect(found.map((i) => i.id)).toEqual([`${posted!.metadata!.jobId}-0`]);
      expect(await bot.library.count(alice)).toBe(2);
    } finally {
      playground.postImage = post;
    }
  });
});

describe('a preview that cannot be made', () => {
  it('holds nothing back: the image is posted and indexed, "Done" shows, and the worker goes on', async () => {
    const t = await testEnv({ DATABASE_URL: '' });
    const real = createAssetStore(t.config);
    const refused: string[] = [];
    // The disk refuses the preview (full, read-only, gone), and only the preview.
    const assets: AssetStore = Object.assign(Object.create(real) as AssetStore, {
      putFile: async (key: string, data: Buffer) => {
        if (!key.endsWith('.thumb.webp')) return real.putFile(key, data);
        refused.push(key);
        throw new Error('ENOSPC: no space left on device');
      },
    });
    const bot = await startBot(t);
    const worker = await startWorker(t, {}, { assets });
    try {
      const pg = new PlaygroundClient(`http://127.0.0.1:${bot.boundPort}`);
      const viewer: Viewer = { platform: 'playground', workspace: 'local', user: 'alice', manager: false, audit: false };
      for (const prompt of ['first with no preview', 'second with no preview']) {
        const { threadId } = await pg.post('Alice', `/zimage ${prompt} --size 256x256 --steps 1`);
        const [posted] = images(await pg.waitFor(threadId, finished(1), 30_000));
        expect((await bot.library.list(viewer, { search: prompt })).images.map((i) => i.id)).toEqual([`${posted!.metadata!.jobId}-0`]);
      }
      await vi.waitFor(() => expect(refused).toHaveLength(2), { timeout: 5000, interval: 20 });
      expect(await real.has(refused[0]!)).toBe(false);
    } finally {
      await bot.stop();
      await worker.stop();
      t.cleanup();
    }
  });
});
