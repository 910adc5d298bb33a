import { cpSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BotApp } from '../../src/app/bot-app.js';
import type { WorkerApp } from '../../worker/worker-app.js';
import { botReplies, finished, images, PlaygroundClient, startBot, startWorker, testEnv, type TestEnv } from '../helpers/harness.js';

describe('template presets in chat', () => {
  let t: TestEnv;
  let bot: BotApp;
  let worker: WorkerApp;
  let pg: PlaygroundClient;
  let dir: string;

  beforeAll(async () => {
    const t0 = await testEnv();
    dir = join(t0.dataDir, 'presets');
    cpSync(join(process.cwd(), 'templates', 'presets'), dir, { recursive: true });
    t = await testEnv({ TEMPLATES_DIR: dir, DATA_DIR: t0.dataDir, QUEUE_PREFIX: t0.prefix });
    bot = await startBot(t);
    worker = await startWorker(t);
    pg = new PlaygroundClient(`http://127.0.0.1:${bot.boundPort}`);
  });
  afterAll(async () => {
    await bot?.stop();
    await worker?.stop();
    t?.cleanup();
  });

  async function ask(user: string, text: string): Promise<string> {
    const { threadId } = await pg.post(user, text);
    const thread = await pg.waitFor(threadId, (m) => botReplies(m).length >= 1);
    return botReplies(thread)[0]!.text;
  }

  it('/zimage templates lists every preset with its usage line', async () => {
    const text = await ask('ann', '/zimage templates');
    expect(text).toContain('Template presets (6)');
    expect(text).toContain('/zimage poster subject="…" [color=#FF6A00] [style="modern minimalist"]');
    expect(text).toContain('size 768×1024 · 8 steps · for everyone');
  });

  it('/zimage templates in Chinese shows the presets\' own Chinese texts', async () => {
    const { threadId } = await pg.post('wang', '/zimage templates', { locale: 'zh-CN' });
    const thread = await pg.waitFor(threadId, (m) => botReplies(m).length >= 1);
    const text = botReplies(thread)[0]!.text;
    expect(text).toContain('• poster — 电商海报：');
    expect(text).toContain('subject* — 促销的商品或活动');
    expect(text).not.toContain('Bold sales poster');
  });

  it('a preset fills its prompt, applies its post-processing, and records its id and version', async () => {
    const { threadId } = await pg.post('ann', '/zimage poster subject="summer sale" color=#00AA88 --seed 3 --steps 2');
    const thread = await pg.waitFor(threadId, finished(1));
    const img = images(thread)[0]!;
    expect(img.metadata!.prompt).toContain('An e-commerce promotional poster for summer sale, bold headline area at the top, dominant colour #00AA88');
    expect(img.metadata!.template).toEqual({ id: 'poster', version: bot.templates.get('poster')!.version });
    expect(img.imageUrl).toMatch(/\.jpg$/);
    const file = Buffer.from(await (await fetch(`${pg.base}${img.imageUrl}`)).arrayBuffer());
    const meta = await sharp(file).metadata();
    expect(meta).toMatchObject({ format: 'jpeg', width: 768, height: 1024 });
    // The logo sits in the bottom-right corner: that corner differs from the same image without overlay.
    const { data } = await sharp(file).extract({ left: 768 - 100, top: 1024 - 50, width: 60, height: 20 }).greyscale().raw().toBuffer({ resolveWithObject: true });
    const mean = data.reduce((s, v) => s + v, 0) / data.length;
    expect(mean).toBeGreaterThan(150); // the logo's white plate
    const sidecar = await (await fetch(`${pg.base}${img.imageUrl!.replace(/\.jpg$/, '.json')}`)).json() as { template: unknown };
    expect(sidecar.template).toEqual({ id: 'poster', version: bot.templates.get('poster')!.version });
  });

  it('a missing or unknown variable is reported by name with the usage line; nothing is queued', async () => {
    const before = await bot.queues.generate.getJobCounts();
    expect(await ask('ann', '/zimage poster color=#FF6A00')).toBe('Missing variable “subject”.\nUsage: /zimage poster subject="…" [color=#FF6A00] [style="modern minimalist"]');
    expect(await ask('ann', '/zimage poster subject=x font=serif')).toMatch(/^Unknown variable “font”\./);
    expect(await ask('ann', '/zimage --template nosuch a=b')).toMatch(/^There is no template “nosuch”\. Available: brand-banner, illustration, poster/);
    expect(await bot.queues.generate.getJobCounts()).toEqual(before);
  });

  it('hot reload: a new file is offered within seconds, a broken edit keeps the old set, a deleted one is gone', async () => {
    writeFileSync(join(dir, 'sticker.yaml'), 'name: sticker\ntitle: Sticker\ndescription: A die-cut sticker.\nprompt: "a sticker of {thing}"\nvariables:\n  thing: { description: what, required: true }\nsize: 512x512\n');
    await waitUntil(() => bot.templates.has('sticker'));
    writeFileSync(join(dir, 'sticker.yaml'), 'name: sticker\ntitle: Sticker\ndescription: A die-cut sticker.\nprompt: "a sticker of {thing}"\nsize: 13x7\n');
    const report = await ask('root', '/zimage reload');
    expect(report).toMatch(/^Only managers/);
    expect(bot.templates.has('sticker')).toBe(true);
    const res = await bot.templates.reload();
    expect(res.ok).toBe(false);
    expect(res.problems.map((p) => `${p.file}:${p.line} ${p.field}`)).toContain('sticker.yaml:5 size');
    expect(bot.templates.has('poster') && bot.templates.has('sticker')).toBe(true);
    rmSync(join(dir, 'sticker.yaml'));
    await waitUntil(() => !bot.templates.has('sticker'));
    expect(await ask('ann', '/zimage templates')).not.toContain('sticker');
  });
});

async function waitUntil(cond: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('POST /admin/reload', () => {
  it('needs the bearer token; reports what changed or the validation error', async () => {
    const t0 = await testEnv();
    const dir = join(t0.dataDir, 'presets');
    cpSync(join(process.cwd(), 'templates', 'presets'), dir, { recursive: true });
    const t = await testEnv({ TEMPLATES_DIR: dir, DATA_DIR: t0.dataDir, QUEUE_PREFIX: t0.prefix, ADMIN_TOKEN: 'a-very-long-admin-token' });
    const bot = await startBot(t);
    try {
      const url = `http://127.0.0.1:${bot.boundPort}/admin/reload`;
      expect((await fetch(url, { method: 'POST' })).status).toBe(401);
      expect((await fetch(url, { method: 'POST', headers: { authorization: 'Bearer wrong-token-of-same-size' } })).status).toBe(401);
      const auth = { authorization: 'Bearer a-very-long-admin-token' };
      rmSync(join(dir, 'illustration.yaml'));
      const ok = await fetch(url, { method: 'POST', headers: auth });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toMatchObject({ ok: true, templates: { removed: ['illustration'], added: [], changed: [] } });
      writeFileSync(join(dir, 'poster.yaml'), 'name: poster\ntitle: x\n');
      const bad = await fetch(url, { method: 'POST', headers: auth });
      expect(bad.status).toBe(422);
      const body = (await bad.json()) as { templates: { problems: string[] } };
      expect(body.templates.problems).toContain('poster.yaml:1 description: Invalid input: expected string, received undefined');
      expect(bot.templates.has('poster')).toBe(true);
    } finally {
      await bot.stop();
      t.cleanup();
    }
  });
});
