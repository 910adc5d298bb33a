/**
 * Stored images and their provenance sidecars are private: served only to a request entitled to them (the
 * Playground's own access for Playground images), the same 404 for anything else, and never through a
 * symbolic link planted in the (shared) output directory. Real bot, worker, Redis and files.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalAssetStore } from '../../src/assets/local-store.js';
import { finished, images, PlaygroundClient, startBot, startWorker, testEnv } from '../helpers/harness.js';
import { pgFetch } from '../helpers/playground-http.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => { while (cleanups.length) await cleanups.pop()!(); });

const sidecarOf = (platform: string, jobId: string) => JSON.stringify({ jobId, index: 0, platform, workspace: 'T1', channel: 'C1', user: 'U1', prompt: 'private' });

describe('private assets', () => {
  it('a Playground image is served to the Playground, a Slack image to nobody, a missing one alike', async () => {
    const t = await testEnv();
    cleanups.push(() => t.cleanup());
    const bot = await startBot(t);
    cleanups.push(() => bot.stop());
    const worker = await startWorker(t);
    cleanups.push(() => worker.stop());
    const base = `http://127.0.0.1:${bot.boundPort}`;
    const pg = new PlaygroundClient(base);
    const { threadId } = await pg.post('ann', '/zimage a red kite --size 256x256 --steps 2');
    const [img] = images(await pg.waitFor(threadId, finished(1)));
    const png = await fetch(`${base}${img!.imageUrl}`);
    expect(png.status).toBe(200);
    expect(png.headers.get('content-type')).toBe('image/png');
    expect(png.headers.get('cache-control')).toMatch(/^private/);
    const side = await fetch(`${base}${img!.imageUrl!.replace(/\.png$/, '.json')}`);
    expect(side.status).toBe(200);
    expect(((await side.json()) as { prompt: string }).prompt).toBe('a red kite');

    // An image from a Slack channel, in the same store: no URL shows it, whatever the key.
    const store = new LocalAssetStore(join(t.dataDir, 'outputs'));
    await store.put('2026/12/01/jslack000001-0.png', Buffer.from('PNG bytes'), JSON.parse(sidecarOf('slack', 'jslack000001')) as object);
    for (const key of ['2026/12/01/jslack000001-0.png', '2026/12/01/jslack000001-0.json', '2026/12/01/jnothere0000-0.png']) {
      const res = await fetch(`${base}/assets/${key}`);
      expect(res.status, key).toBe(404);
      expect(await res.text()).not.toContain('private');
    }
  });

  it('with the Playground open to the network, its images need the session too', async () => {
    const t = await testEnv({ HOST: '0.0.0.0' });
    cleanups.push(() => t.cleanup());
    const bot = await startBot(t);
    cleanups.push(() => bot.stop());
    const store = new LocalAssetStore(join(t.dataDir, 'outputs'));
    await store.put('2026/12/01/jplay0000001-0.png', Buffer.from('PNG bytes'), JSON.parse(sidecarOf('playground', 'jplay0000001')) as object);
    const base = `http://127.0.0.1:${bot.boundPort}`;
    expect((await fetch(`${base}/assets/2026/12/01/jplay0000001-0.png`)).status).toBe(404);
    expect((await fetch(`${base}/assets/2026/12/01/jplay0000001-0.json`)).status).toBe(404);
    const token = /\?token=([A-Za-z0-9_-]+)/.exec(bot.startLine())![1]!;
    const link = await pgFetch(base, `/?token=${token}`, {}, 'netperson');
    expect(link.status).toBe(303);
    expect((await pgFetch(base, '/assets/2026/12/01/jplay0000001-0.png', {}, 'netperson')).status).toBe(200);
  });

  it('a symbolic link planted in the output directory is never followed', async () => {
    const t = await testEnv();
    cleanups.push(() => t.cleanup());
    const bot = await startBot(t);
    cleanups.push(() => bot.stop());
    const outputs = join(t.dataDir, 'outputs');
    const outside = mkdtempSync(join(tmpdir(), 'zimage-outside-'));
    cleanups.push(() => rmSync(outside, { recursive: true, force: true }));
    writeFileSync(join(outside, 'secret.txt'), 'root:x:0:0:secret');
    writeFileSync(join(outside, 'side.json'), sidecarOf('playground', 'jlink0000001'));
    const day = join(outputs, '2026', '12', '01');
    mkdirSync(day, { recursive: true });
    // 1: the image is a link out of the store, its sidecar genuine.
    symlinkSync('/etc/passwd', join(day, 'jlink0000001-0.png'));
    writeFileSync(join(day, 'jlink0000001-0.json'), sidecarOf('playground', 'jlink0000001'));
    // 2: the sidecar is a link out of the store.
    writeFileSync(join(day, 'jlink0000002-0.png'), 'PNG bytes');
    symlinkSync(join(outside, 'side.json'), join(day, 'jlink0000002-0.json'));
    // 3: a whole day directory is a link out of the store.
    mkdirSync(join(outputs, '2026', '11'), { recursive: true });
    symlinkSync(outside, join(outputs, '2026', '11', '30'));
    writeFileSync(join(outside, 'jlink0000003-0.png'), 'PNG bytes from outside');
    writeFileSync(join(outside, 'jlink0000003-0.json'), sidecarOf('playground', 'jlink0000003'));
    const base = `http://127.0.0.1:${bot.boundPort}`;
    for (const key of ['2026/12/01/jlink0000001-0.png', '2026/12/01/jlink0000002-0.png', '2026/12/01/jlink0000002-0.json', '2026/11/30/jlink0000003-0.png', '2026/11/30/jlink0000003-0.json']) {
      const res = await fetch(`${base}/assets/${key}`);
      expect(res.status, key).toBe(404);
      expect(await res.text()).not.toMatch(/root:x|from outside/);
    }
    // Positive control: a genuine file next to them is served.
    writeFileSync(join(day, 'jreal00000001-0.png'), 'PNG bytes');
    writeFileSync(join(day, 'jreal00000001-0.json'), sidecarOf('playground', 'jreal00000001'));
    expect((await fetch(`${base}/assets/2026/12/01/jreal00000001-0.png`)).status).toBe(200);
    await expect(new LocalAssetStore(outputs).get('2026/12/01/jlink0000001-0.png')).rejects.toMatchObject({ code: 'ASSET_MISSING' });
  });
});
