/**
 * The gallery in a real browser (Debian Chromium via playwright-core) against a real bot and worker on the
 * demo model: sign in from the link `/zimage gallery` gives, the grid shows the previews, the search box
 * narrows it (Chinese too), the detail view shows the provenance, and deleting one's own image removes it.
 * Screenshots at desktop and phone widths go to ZIMAGE_SCREENSHOT_DIR (default: the test's data directory).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BotApp } from '../../src/app/bot-app.js';
import type { WorkerApp } from '../../worker/worker-app.js';
import { launchChromium } from '../helpers/browser.js';
import { seedImage } from '../helpers/gallery-browser.js';
import { thumbnailKey } from '../../src/assets/asset-store.js';
import { finished, PlaygroundClient, startBot, startWorker, testEnvWithSettings, type TestEnv } from '../helpers/harness.js';

const PROMPTS: Array<[string, string]> = [
  ['Alice', 'a ginger cat on a windowsill, morning light'],
  ['Alice', '蓝色科技感手机海报'],
  ['Bob', 'summer sale poster, bold letters'],
  ['Alice', 'a lighthouse in a storm, oil painting'],
  ['Bob', 'watercolor fox in the snow'],
  ['Alice', 'isometric city at night, neon'],
];

describe('the gallery in a real browser', () => {
  let t: TestEnv;
  let bot: BotApp;
  let worker: WorkerApp;
  let browser: Browser;
  let shots: string;

  beforeAll(async () => {
    // Alice is an admin: the Usage and Export pages are hers too.
    t = await testEnvWithSettings('quota:\n  admins: ["playground:local:alice"]\n');
    bot = await startBot(t);
    worker = await startWorker(t);
    const pg = new PlaygroundClient(`http://127.0.0.1:${bot.boundPort}`);
    for (const [i, [who, prompt]] of PROMPTS.entries()) {
      const { threadId } = await pg.post(who, `/zimage ${prompt} --size 512x512 --steps 1 --seed ${40 + i}`);
      await pg.waitFor(threadId, finished(1), 60_000);
    }
    shots = process.env.ZIMAGE_SCREENSHOT_DIR ?? join(t.dataDir, 'screenshots');
    mkdirSync(shots, { recursive: true });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await bot?.stop();
    await worker?.stop();
    t?.cleanup();
  });

  const cards = (page: Page) => page.locator('#grid .card');

  async function signedIn(viewport: { width: number; height: number }, mobile = false, locale = 'en-US'): Promise<Page> {
    const context = await browser.newContext({ viewport, isMobile: mobile, hasTouch: mobile, deviceScaleFactor: mobile ? 2 : 1, locale });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('response', (r) => { if (r.status() >= 400) errors.push(`${r.status()} ${new URL(r.url()).pathname}`); });
    (page as Page & { errors: string[] }).errors = errors;
    await page.goto(await bot.gallery.signInLink({ platform: 'playground', workspace: 'local', user: 'alice', userName: 'Alice' }));
    await page.locator('form button[type="submit"]').click();
    await page.waitForURL(/\/gallery$/);
    return page;
  }

  it('sign in from the link, the grid of previews, search, the detail view with provenance, delete', async () => {
    const page = await signedIn({ width: 1280, height: 900 });
    await expect.poll(() => cards(page).count(), { timeout: 15_000 }).toBe(6);
    await expect.poll(() => page.locator('#count').textContent()).toBe('6 images');
    expect(await page.locator('#who-name').textContent()).toBe('Signed in as Alice');
    // Every preview loaded (served to this session by the gallery's asset gate).
    await expect.poll(() => cards(page).locator('img').evaluateAll((imgs) => imgs.filter((i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth === 256).length), { timeout: 15_000 }).toBe(6);
    // Newest first.
    expect(await cards(page).first().locator('.p').textContent()).toBe('isometric city at night, neon');
    await page.screenshot({ path: join(shots, 'gallery-desktop.png'), fullPage: true });

    await page.fill('#q', '海报');
    await expect.poll(() => cards(page).count()).toBe(1);
    expect(await cards(page).first().locator('.p').textContent()).toBe('蓝色科技感手机海报');
    expect(page.url()).toMatch(/\?q=%E6%B5%B7%E6%8A%A5$/);
    await page.fill('#q', 'poster');
    await expect.poll(() => cards(page).count()).toBe(1);
    await page.fill('#q', '');
    await expect.poll(() => cards(page).count()).toBe(6);
    await page.selectOption('select[name="person"]', 'bob');
    await expect.poll(() => cards(page).count()).toBe(2);
    await page.selectOption('select[name="person"]', '');
    await expect.poll(() => cards(page).count()).toBe(6);

    // The detail view: the image and its provenance.
    await cards(page).filter({ hasText: 'a lighthouse in a storm' }).click();
    const dialog = page.locator('dialog#detail');
    await dialog.waitFor({ state: 'visible' });
    await expect.poll(() => dialog.locator('.picture img').evaluate((i) => (i as HTMLImageElement).naturalWidth), { timeout: 10_000 }).toBe(512);
    const facts = Object.fromEntries(await dialog.locator('dl.meta dt').evaluateAll((dts) => dts.map((dt) => [dt.textContent, dt.nextElementSibling?.textContent])));
    expect(facts).toMatchObject({ 'Made by': 'Alice (alice)', Where: 'Playground', Seed: '43', Size: '512×512', Steps: '1', Template: 'free prompt' });
    expect(facts.Model).toMatch(/^demo model/);
    expect(facts.Job).toMatch(/^j[0-9a-z]+ #0$/);
    expect(await dialog.locator('pre').textContent()).toContain('"prompt": "a lighthouse in a storm, oil painting"');
    expect(page.url()).toMatch(/\?image=j[0-9a-z]+-0$/);
    await page.screenshot({ path: join(shots, 'detail-desktop.png') });

    // Delete it: asked first, then gone from the grid and from the server.
    await dialog.getByRole('button', { name: 'Delete', exact: true }).click();
    await dialog.locator('.confirm').waitFor({ state: 'visible' });
    expect(await dialog.locator('.confirm p').textContent()).toMatch(/^Delete this image\?/);
    const id = new URL(page.url()).searchParams.get('image')!;
    await dialog.getByRole('button', { name: 'Delete it' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await expect.poll(() => cards(page).count()).toBe(5);
    expect(await cards(page).filter({ hasText: 'a lighthouse in a storm' }).count()).toBe(0);
    await expect.poll(() => page.locator('#toast').textContent()).toBe('The image was deleted.');
    // Alice is an admin (audit permission): she is shown the tombstone; the files are gone.
    const after = await page.evaluate(async (i) => (await (await fetch(`/api/gallery/images/${i}`)).json()) as { image: { deleted: { by: string }; imageUrl: null } }, id);
    expect(after.image).toMatchObject({ deleted: { by: 'alice' }, imageUrl: null });
    // A Bob image offers no Delete to Alice.
    await cards(page).filter({ hasText: 'watercolor fox' }).click();
    await dialog.waitFor({ state: 'visible' });
    expect(await dialog.getByRole('button', { name: 'Delete', exact: true }).count()).toBe(0);
    expect(await dialog.getByRole('button', { name: 'Generate again' }).count()).toBe(1);
    await page.keyboard.press('Escape');

    await page.goto('/gallery/usage'.replace(/^/, new URL(page.url()).origin));
    await expect.poll(() => page.locator('#chart').evaluate((i) => (i as HTMLImageElement).naturalWidth), { timeout: 15_000 }).toBe(2400);
    await page.screenshot({ path: join(shots, 'usage-desktop.png'), fullPage: true });
    await page.goto(`${new URL(page.url()).origin}/gallery/export`);
    await page.getByRole('button', { name: 'Count rows' }).click();
    await expect.poll(() => page.locator('#rows').textContent(), { timeout: 10_000 }).toBe('6 rows match.');
    await page.screenshot({ path: join(shots, 'export-desktop.png'), fullPage: true });
    expect((page as Page & { errors: string[] }).errors).toEqual([]);
  });

  it('infinite scroll: the next page arrives as the end of the grid comes into view, in order, without repeats', async () => {
    for (let i = 0; i < 130; i++) {
      await seedImage(bot, t.config, { jobId: `jscroll${String(i).padStart(3, '0')}`, prompt: `scroll test ${i}`, platform: 'playground', workspace: 'local', channel: 'general', channelKind: 'playground', user: 'carol', at: new Date(Date.UTC(2026, 5, 1) + i * 60_000).toISOString() });
    }
    const page = await signedIn({ width: 1280, height: 900 });
    await page.goto(`${new URL(page.url()).origin}/gallery?person=carol`);
    await expect.poll(() => page.locator('#count').textContent(), { timeout: 10_000 }).toBe('130 images');
    await expect.poll(() => cards(page).count()).toBe(60);
    for (const expected of [120, 130]) {
      await page.locator('#sentinel').scrollIntoViewIfNeeded();
      await expect.poll(() => cards(page).count(), { timeout: 10_000 }).toBe(expected);
    }
    const prompts = await cards(page).locator('.p').allTextContents();
    expect(prompts).toEqual(Array.from({ length: 130 }, (_, i) => `scroll test ${129 - i}`));
    expect((page as Page & { errors: string[] }).errors).toEqual([]);
  });

  it('an image whose preview is not there (yet, or making it failed) shows in the grid as the image itself', async () => {
    const image = await seedImage(bot, t.config, { jobId: 'jnopreview', prompt: 'no preview yet', platform: 'playground', workspace: 'local', channel: 'general', channelKind: 'playground', user: 'dave', preview: false });
    const page = await signedIn({ width: 1280, height: 900 });
    await page.goto(`${new URL(page.url()).origin}/gallery?person=dave`);
    await expect.poll(() => cards(page).count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => cards(page).locator('img').evaluate((i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth), { timeout: 10_000 }).toBe(64);
    expect((page as Page & { errors: string[] }).errors).toEqual([`404 /assets/${thumbnailKey(image.key)}`]);
  });

  it('works on a phone (in Chinese): two columns of previews, the detail view full screen', async () => {
    const page = await signedIn({ width: 390, height: 844 }, true, 'zh-CN');
    await page.goto(`${new URL(page.url()).origin}/gallery?person=alice`);
    await expect.poll(() => cards(page).count(), { timeout: 15_000 }).toBe(3);
    expect(await page.locator('#who-name').textContent()).toBe('已登录：Alice');
    expect(await page.locator('#count').textContent()).toBe('3 张图片');
    const widths = await cards(page).evaluateAll((cs) => cs.slice(0, 2).map((c) => Math.round(c.getBoundingClientRect().width)));
    expect(widths[0]).toBeGreaterThan(150);
    expect(widths[0]).toBeLessThan(195);
    // Nothing sticks out sideways.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.screenshot({ path: join(shots, 'gallery-phone.png'), fullPage: true });
    await cards(page).first().click();
    const dialog = page.locator('dialog#detail');
    await dialog.waitFor({ state: 'visible' });
    const box = await dialog.boundingBox();
    expect(Math.round(box!.width)).toBe(390);
    await page.screenshot({ path: join(shots, 'detail-phone.png') });
    await page.keyboard.press('Escape');
    await page.goto(`${new URL(page.url()).origin}/gallery/usage`);
    await expect.poll(() => page.locator('#chart').evaluate((i) => (i as HTMLImageElement).naturalWidth), { timeout: 15_000 }).toBe(2400);
    await page.screenshot({ path: join(shots, 'usage-phone.png'), fullPage: true });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    expect((page as Page & { errors: string[] }).errors).toEqual([]);
  });
});
