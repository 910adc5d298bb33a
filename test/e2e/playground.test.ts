import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BotApp } from '../../src/app/bot-app.js';
import type { WorkerApp } from '../../worker/worker-app.js';
import { launchChromium } from '../helpers/browser.js';
import { startBot, startWorker, testEnv, type TestEnv } from '../helpers/harness.js';
import { pgPost } from '../helpers/playground-http.js';

describe('Playground in a real browser', () => {
  let t: TestEnv;
  let bot: BotApp;
  let worker: WorkerApp;
  let browser: Browser;

  beforeAll(async () => {
    // A visible pace so the page can be seen queueing and generating.
    t = await testEnv({ DEMO_STEP_DELAY_MS: '150' });
    bot = await startBot(t);
    worker = await startWorker(t);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await bot?.stop();
    await worker?.stop();
    t?.cleanup();
  });

  it('typing a command shows the live status and then the image with its metadata', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const base = `http://127.0.0.1:${bot.boundPort}`;
    // Whatever the page loads (its icon included) must be there: no failed request, no script error.
    const problems: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
    page.on('pageerror', (e) => problems.push(String(e)));
    const answer = await page.goto(base);
    // The page may only run its own script (a message that slipped past escaping could not run code).
    expect(answer?.headers()['content-security-policy']).toMatch(/script-src 'self'/);
    await page.fill('#user', 'alice');
    await page.dispatchEvent('#user', 'change');
    // Somebody else's job first, so alice's waits in line and its position is visible.
    await pgPost(base, '/api/playground/messages', { user: 'bob', text: '/zimage a sailing boat --size 512x512 --seed 3' });
    await page.fill('#text', '/zimage a ginger cat on a windowsill --seed 7 --size 512x512');
    await page.press('#text', 'Enter');

    const aliceThread = page.locator('.thread', { has: page.locator('.name', { hasText: 'alice' }) });
    await expect.poll(() => aliceThread.locator('.status').first().textContent(), { timeout: 20_000 })
      .toMatch(/Queued — position \d of \d|Generating — step \d+\/8/);
    await expect.poll(() => aliceThread.locator('.status').first().textContent(), { timeout: 20_000 }).toMatch(/Generating — step/);
    await aliceThread.locator('.result img').waitFor({ timeout: 30_000 });
    await expect.poll(() => aliceThread.locator('.status').first().textContent(), { timeout: 10_000 }).toMatch(/^Done — 1 image in/);
    const meta = await aliceThread.locator('.meta').innerText();
    expect(meta).toContain('a ginger cat on a windowsill');
    expect(meta).toContain('512×512');
    expect(meta).toContain('demo model');
    const loaded = await aliceThread.locator('.result img').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth);
    expect(loaded).toBe(512);
    expect(problems).toEqual([]);
    // The icon a browser asks for by itself, on any page that names none.
    const icon = await fetch(`${base}/favicon.ico`);
    expect([icon.status, icon.headers.get('content-type')]).toEqual([200, 'image/svg+xml']);
    expect(await icon.text()).toMatch(/^<svg /);
    await page.screenshot({ path: `${t.dataDir}/playground.png`, fullPage: true });
    if (process.env.ZIMAGE_SCREENSHOT) await page.screenshot({ path: process.env.ZIMAGE_SCREENSHOT, fullPage: true });
  });

  it('the status bar follows a job as it starts and ends, without waiting for its next ten-second refresh', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const base = `http://127.0.0.1:${bot.boundPort}`;
    await page.goto(base);
    const bar = page.locator('#statusbar');
    await expect.poll(() => bar.textContent(), { timeout: 5000 }).toMatch(/generating 0 · waiting 0/);
    const loadedAt = Date.now();
    await pgPost(base, '/api/playground/messages', { user: 'carol', text: '/zimage a paper crane --size 512x512 --seed 11' });
    // The page's own refresh comes 10 s after it loaded: both changes must be seen well before that.
    await expect.poll(() => bar.textContent(), { timeout: 6000, interval: 100 }).toMatch(/generating 1 · waiting 0/);
    await expect.poll(() => bar.textContent(), { timeout: 6000, interval: 100 }).toMatch(/generating 0 · waiting 0 · p95 wait (?!no data)/);
    expect(Date.now() - loadedAt).toBeLessThan(9000);
    await page.close();
  });

  it('the status bar speaks the browser\'s language, as the bot\'s replies do', async () => {
    const context = await browser.newContext({ locale: 'zh-CN' });
    const page = await context.newPage();
    await page.goto(`http://127.0.0.1:${bot.boundPort}`);
    await expect.poll(() => page.locator('#statusbar').textContent(), { timeout: 5000 }).toMatch(/^工作节点 1 · 生成中 \d+ · 排队 \d+ · p95 等待/);
    // The page's own texts too: header, composer, the empty feed, and the buttons on the bot's messages.
    await expect.poll(() => page.locator('button[type=submit]').textContent(), { timeout: 5000 }).toBe('发送');
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('zh-CN');
    expect(await page.locator('.who span').textContent()).toBe('你是');
    expect(await page.locator('#text').getAttribute('placeholder')).toMatch(/^发消息到 #general/);
    await page.fill('#user', 'dora');
    await page.fill('#text', '/zimage 一只纸鹤 --size 512x512 --seed 5');
    await page.press('#text', 'Enter');
    await expect.poll(() => page.locator('.action-regenerate').first().textContent(), { timeout: 15_000 }).toBe('重新生成');
    expect(await page.locator('.action-variations').first().textContent()).toBe('变体 ×4');
    await context.close();
  });
});
