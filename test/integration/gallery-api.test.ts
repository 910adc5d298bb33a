/**
 * The gallery's HTTP API and direct image URLs against a real bot (real Redis, the index on PostgreSQL, real
 * files): the visibility table for member / manager / audit roles × own / public / private / DM / other
 * workspace; CSRF on delete (missing or wrong token, foreign or missing Origin → 403 and nothing changed; then
 * the same request done right); and bad input — searches of any size and script, unknown filter values.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BotApp } from '../../src/app/bot-app.js';
import { sidecarKey, thumbnailKey } from '../../src/assets/asset-store.js';
import type { StoredImage } from '../../src/jobs/types.js';
import { GalleryBrowser, seedImage } from '../helpers/gallery-browser.js';
import { startBot, testEnvWithSettings, type TestEnv } from '../helpers/harness.js';
import { IMAGES, TABLE } from '../helpers/visibility-table.js';

const ROLES = [
  { role: 'member', user: 'UMEM', column: 0 },
  { role: 'manager', user: 'UMAN', column: 1 },
  { role: 'audit', user: 'UAUD', column: 2 },
] as const;

type Card = { id: string; deleted: unknown };

describe('the gallery API and image URLs', () => {
  let t: TestEnv;
  let bot: BotApp;
  let base: string;
  const browsers = new Map<string, GalleryBrowser>();
  /** role → case name → the image made for that role's person. */
  const images = new Map<string, Map<string, StoredImage>>();

  beforeAll(async () => {
    t = await testEnvWithSettings('quota:\n  roles:\n    compliance: { audit: true }\n');
    bot = await startBot(t);
    base = `http://localhost:${bot.boundPort}`;
    await bot.quota.store.setRole({ platform: 'slack', workspace: 'T1' }, 'UMAN', 'manager');
    await bot.quota.store.setRole({ platform: 'slack', workspace: 'T1' }, 'UAUD', 'compliance');
    let n = 0;
    for (const { role, user } of ROLES) {
      const mine = new Map<string, StoredImage>();
      for (const [name, facts] of Object.entries(IMAGES)) {
        // "Own" means the role's own person; everyone else is someone else.
        const owner = facts.user === 'UME' ? user : 'UOTHER';
        const image = await seedImage(bot, t.config, {
          jobId: `jg${role.slice(0, 3)}${String(n++).padStart(3, '0')}`, prompt: `${role} sees ${name}`, platform: facts.platform,
          workspace: facts.workspace, user: owner, userName: owner.toLowerCase(), channelKind: facts.channelKind, channel: `C${facts.channelKind.toUpperCase()}`,
        });
        if (facts.deleted) await bot.library.delete({ platform: 'slack', workspace: 'T1', user: owner, manager: false, audit: false }, `${image.metadata.jobId}-0`);
        mine.set(name, image);
      }
      images.set(role, mine);
      const b = new GalleryBrowser(base);
      await b.signIn(await bot.gallery.signInLink({ platform: 'slack', workspace: 'T1', user }));
      browsers.set(role, b);
    }
  });
  afterAll(async () => {
    await bot?.stop();
    t?.cleanup();
  });

  async function listAll(b: GalleryBrowser, query = ''): Promise<Card[]> {
    const out: Card[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: { images: Card[]; next: string | null } } = await b.json(`/api/gallery/images?limit=7${query}${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      out.push(...page.body.images);
      cursor = page.body.next;
    } while (cursor);
    return out;
  }

  it.each(ROLES)('the visibility table for $role: the grid, the detail view and every file URL', async ({ role, column }) => {
    const b = browsers.get(role)!;
    expect((await b.me())).toMatchObject({ manager: role === 'manager', audit: role === 'audit' });
    const listed = new Set((await listAll(b)).map((c) => c.id));
    const missingBody = await (await b.fetch('/assets/2026/11/01/jnothere-0.png')).text();
    for (const [name, image] of images.get(role)!) {
      const visible = TABLE[name]![column]!;
      const id = `${image.metadata.jobId}-0`;
      expect({ name, listed: listed.has(id) }).toEqual({ name, listed: visible });
      const detail = await b.fetch(`/api/gallery/images/${id}`);
      // Auditors are shown tombstones in the detail view (who deleted it, when); nobody else is.
      const tombstoneForAuditor = role === 'audit' && IMAGES[name]!.deleted && IMAGES[name]!.platform === 'slack' && IMAGES[name]!.workspace === 'T1';
      expect({ name, detail: detail.status }).toEqual({ name, detail: visible || tombstoneForAuditor ? 200 : 404 });
      for (const key of [image.key, thumbnailKey(image.key), sidecarKey(image.key)]) {
        const res = await b.fetch(`/assets/${key}`);
        const body = await res.text();
        expect({ name, key, status: res.status }).toEqual({ name, key, status: visible ? 200 : 404 });
        // Not visible reads exactly like missing.
        if (!visible) expect(body).toBe(missingBody);
      }
    }
  });

  it('a file URL without a gallery session is a 404, like a missing one', async () => {
    const image = images.get('member')!.get('public channel')!;
    expect((await browsers.get('member')!.fetch(`/assets/${image.key}`)).status).toBe(200);
    const nobody = new GalleryBrowser(base);
    for (const key of [image.key, thumbnailKey(image.key), sidecarKey(image.key)]) expect((await nobody.fetch(`/assets/${key}`)).status).toBe(404);
  });

  it('delete needs the CSRF token and a same-origin request: refused ones change nothing, the right one deletes', async () => {
    const b = browsers.get('member')!;
    const image = await seedImage(bot, t.config, { jobId: 'jgdel001', prompt: 'to be deleted', platform: 'slack', workspace: 'T1', user: 'UMEM', channelKind: 'public' });
    const id = `${image.metadata.jobId}-0`;
    const file = join(t.dataDir, 'outputs', image.key);
    const attempts: Array<{ why: string; init: Parameters<GalleryBrowser['fetch']>[1]; code: string }> = [
      { why: 'no token', init: { method: 'DELETE', csrf: null }, code: 'CSRF_TOKEN' },
      { why: 'a wrong token', init: { method: 'DELETE', csrf: 'x'.repeat(43) }, code: 'CSRF_TOKEN' },
      { why: 'another session\'s token', init: { method: 'DELETE', csrf: browsers.get('manager')!.csrf }, code: 'CSRF_TOKEN' },
      { why: 'a foreign Origin', init: { method: 'DELETE', origin: 'https://evil.example' }, code: 'CSRF_ORIGIN' },
      { why: 'no Origin at all', init: { method: 'DELETE', origin: null }, code: 'CSRF_ORIGIN' },
      { why: 'Origin null', init: { method: 'DELETE', origin: 'null' }, code: 'CSRF_ORIGIN' },
    ];
    for (const a of attempts) {
      const res = await b.json<{ error: { code: string } }>(`/api/gallery/images/${id}`, a.init);
      expect({ why: a.why, status: res.status, code: res.body.error.code }).toEqual({ why: a.why, status: 403, code: a.code });
    }
    expect(existsSync(file)).toBe(true);
    expect((await b.fetch(`/api/gallery/images/${id}`)).status).toBe(200);
    // Someone else may not delete it even with everything right (a visible image: 403; others' private ones are 404).
    const other = browsers.get('manager')!;
    expect((await other.json(`/api/gallery/images/${id}`, { method: 'DELETE' })).status).toBe(403);
    expect(existsSync(file)).toBe(true);
    // Done right: gone, files and all.
    const done = await b.json<{ image: { deleted: { by: string } } }>(`/api/gallery/images/${id}`, { method: 'DELETE' });
    expect(done.status).toBe(200);
    expect(done.body.image.deleted.by).toBe('UMEM');
    expect(existsSync(file)).toBe(false);
    expect((await b.fetch(`/api/gallery/images/${id}`)).status).toBe(404);
    expect((await b.fetch(`/assets/${image.key}`)).status).toBe(404);
    // A held image cannot be deleted: 409 with the catalogue's words.
    const held = await seedImage(bot, t.config, { jobId: 'jgdel002', prompt: 'held', platform: 'slack', workspace: 'T1', user: 'UMEM', channelKind: 'public' });
    const aud = browsers.get('audit')!;
    expect((await aud.json(`/api/gallery/images/jgdel002-0/hold`, { method: 'POST', body: JSON.stringify({ on: true, reason: 'case 7' }), headers: { 'content-type': 'application/json' } })).status).toBe(200);
    const refused = await b.json<{ error: { code: string; message: string } }>(`/api/gallery/images/jgdel002-0`, { method: 'DELETE' });
    expect([refused.status, refused.body.error.code]).toEqual([409, 'LEGAL_HOLD']);
    expect(existsSync(join(t.dataDir, 'outputs', held.key))).toBe(true);
    // Holds are for the audit permission only.
    expect((await b.json(`/api/gallery/images/jgdel002-0/hold`, { method: 'POST', body: JSON.stringify({ on: false }), headers: { 'content-type': 'application/json' } })).status).toBe(403);
  });

  it('searches of any size and script, and unknown filter values, answer (empty where nothing matches), never an error', async () => {
    const b = browsers.get('member')!;
    await seedImage(bot, t.config, { jobId: 'jgsrch01', prompt: '蓝色科技感手机海报', platform: 'slack', workspace: 'T1', user: 'UMEM', channelKind: 'public' });
    await seedImage(bot, t.config, { jobId: 'jgsrch02', prompt: 'summer sale poster', platform: 'slack', workspace: 'T1', user: 'UMEM', channelKind: 'public' });
    const ids = async (q: string): Promise<string[]> => (await listAll(b, `&q=${encodeURIComponent(q)}`)).map((c) => c.id).sort();
    expect(await ids('海报')).toEqual(['jgsrch01-0']);
    expect(await ids('POSTER')).toEqual(['jgsrch02-0']);
    // Cut at 200 characters: what follows is not looked at.
    expect(await ids(`summer poster${' '.repeat(190)}${'nomatch'.repeat(100)}`)).toEqual(['jgsrch02-0']);
    const odd = ['%_\\', '\u0000\u0007', '🙂🙃', 'שלום', "'; drop table images; --", '   ', 'x'.repeat(4000)].map(encodeURIComponent);
    // Bytes that are no UTF-8 at all (a lone surrogate, a stray continuation byte), as a client may send them.
    for (const q of [...odd, '%ED%A0%80', '%80%FF', '%E6%B5']) {
      const res = await b.fetch(`/api/gallery/images?q=${q}`);
      expect({ q: q.slice(0, 20), status: res.status }).toEqual({ q: q.slice(0, 20), status: 200 });
    }
    for (const q of ['person=UNOBODY', 'channel=CNOWHERE', 'template=nope', 'model=nope', `person=${'z'.repeat(5000)}`]) {
      const res = await b.json<{ images: unknown[]; total: number }>(`/api/gallery/images?${q}`);
      expect({ q: q.slice(0, 30), status: res.status, total: res.body.total }).toEqual({ q: q.slice(0, 30), status: 200, total: 0 });
    }
    // A date that is not one is the client's mistake: 400 with a code.
    const bad = await b.json<{ error: { code: string } }>('/api/gallery/images?from=2026-02-31');
    expect([bad.status, bad.body.error.code]).toEqual([400, 'BAD_DATE']);
    const cursor = await b.json<{ error: { code: string } }>('/api/gallery/images?cursor=garbage');
    expect([cursor.status, cursor.body.error.code]).toEqual([400, 'LIBRARY_BAD_CURSOR']);
  });

  it('date filters are the team\'s calendar days, both ends included', async () => {
    const b = browsers.get('member')!;
    await seedImage(bot, t.config, { jobId: 'jgday001', prompt: 'dated', at: '2026-10-03T23:30:00.000Z', platform: 'slack', workspace: 'T1', user: 'UMEM', channelKind: 'public' });
    const on = async (from: string, to: string) => (await b.json<{ total: number }>(`/api/gallery/images?q=dated&from=${from}&to=${to}`)).body.total;
    // The quota zone defaults to UTC: the image is on 2026-10-03.
    expect(await on('2026-10-03', '2026-10-03')).toBe(1);
    expect(await on('2026-10-04', '2026-10-09')).toBe(0);
    expect(await on('2026-10-01', '2026-10-02')).toBe(0);
  });
});
