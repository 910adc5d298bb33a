/**
 * Compliance export through the gallery, against a real bot (real Redis, PostgreSQL, HTTP): CSRF on the
 * export request (missing or wrong token, foreign Origin → 403, no download link made), the download link
 * (once, for the session that asked), the file itself with its row count, the audit log entry — and a client
 * that stops reading a large export stops the reading of the database (the stream is bounded).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BotApp } from '../../src/app/bot-app.js';
import { AuditLog } from '../../src/quota/audit.js';
import { GalleryBrowser, seedImage } from '../helpers/gallery-browser.js';
import { startBot, testEnvWithSettings, type TestEnv } from '../helpers/harness.js';
import { storedImage } from '../helpers/library-fixtures.js';

const JSON_HEADERS = { 'content-type': 'application/json' };

describe('gallery export', () => {
  let t: TestEnv;
  let bot: BotApp;
  let base: string;
  let auditor: GalleryBrowser;
  let member: GalleryBrowser;
  let audit: AuditLog;

  beforeAll(async () => {
    t = await testEnvWithSettings('quota:\n  roles:\n    compliance: { audit: true }\n');
    bot = await startBot(t);
    base = `http://localhost:${bot.boundPort}`;
    audit = new AuditLog(bot.redis, bot.keys);
    await bot.quota.store.setRole({ platform: 'slack', workspace: 'T1' }, 'UAUD', 'compliance');
    auditor = new GalleryBrowser(base);
    await auditor.signIn(await bot.gallery.signInLink({ platform: 'slack', workspace: 'T1', user: 'UAUD' }));
    member = new GalleryBrowser(base);
    await member.signIn(await bot.gallery.signInLink({ platform: 'slack', workspace: 'T1', user: 'UMEM' }));
    for (let i = 0; i < 3; i++) {
      await seedImage(bot, t.config, { jobId: `jexp${i}`, prompt: `=cmd|' /C calc'!A${i} report`, platform: 'slack', workspace: 'T1', user: 'UMEM', channelKind: i === 0 ? 'dm' : 'public', at: `2026-10-1${i}T10:00:00.000Z` });
    }
  });
  afterAll(async () => {
    await bot?.stop();
    t?.cleanup();
  });

  const tickets = async (): Promise<number> => (await bot.redis.keys(`${bot.keys.root}:gallery:export:*`)).length;
  const exports = async () => (await audit.recent('slack', 'T1', 50)).filter((e) => e.action === 'library.export');

  it('refused without the token or from another origin: 403, and no download link is made', async () => {
    const body = JSON.stringify({ format: 'csv', from: '2026-10-01', to: '2026-10-31' });
    for (const init of [
      { csrf: null }, { csrf: 'x'.repeat(43) }, { csrf: member.csrf }, { origin: 'https://evil.example' }, { origin: null },
    ]) {
      const res = await auditor.json<{ error: { code: string } }>('/api/gallery/export', { method: 'POST', body, headers: JSON_HEADERS, ...init });
      expect(res.status).toBe(403);
      expect(res.body.error.code).toMatch(/^CSRF_(TOKEN|ORIGIN)$/);
    }
    expect(await tickets()).toBe(0);
    // Only the audit permission may export, even with everything right.
    const denied = await member.json<{ error: { code: string } }>('/api/gallery/export', { method: 'POST', body, headers: JSON_HEADERS });
    expect([denied.status, denied.body.error.code]).toEqual([403, 'LIBRARY_FORBIDDEN']);
    expect(await tickets()).toBe(0);
    // Positive control: done right, a link is made.
    const ok = await auditor.json<{ rows: number; url: string }>('/api/gallery/export', { method: 'POST', body, headers: JSON_HEADERS });
    expect(ok.status).toBe(200);
    expect(await tickets()).toBe(1);
    await (await auditor.fetch(ok.body.url)).arrayBuffer();
  });

  it('CSV of the range with the row count; the link works once, for the session that asked', async () => {
    const made = await auditor.json<{ rows: number; url: string }>('/api/gallery/export', {
      method: 'POST', body: JSON.stringify({ format: 'csv', from: '2026-10-10', to: '2026-10-11' }), headers: JSON_HEADERS,
    });
    expect(made.body.rows).toBe(2);
    // Another session cannot take it (and it is used up by trying: it was meant for one download).
    const stolen = await member.fetch(made.body.url);
    expect(stolen.status).toBe(404);
    const again = await auditor.json<{ url: string }>('/api/gallery/export', { method: 'POST', body: JSON.stringify({ format: 'csv', from: '2026-10-10', to: '2026-10-11' }), headers: JSON_HEADERS });
    const res = await auditor.fetch(again.body.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="zimage-provenance-2026-10-10-2026-10-12\.csv"$/);
    expect(res.headers.get('x-row-count')).toBe('2');
    const rows = parseCsv(await res.text(), { columns: true }) as Array<Record<string, string>>;
    expect(rows.map((r) => r.id).sort()).toEqual(['jexp0-0', 'jexp1-0']);
    // The DM image is there (auditors see everything), and a formula-looking prompt is defused.
    expect(rows.find((r) => r.id === 'jexp0-0')!.channel_kind).toBe('dm');
    expect(rows[0]!.prompt!.startsWith("'=")).toBe(true);
    expect((await auditor.fetch(again.body.url)).status).toBe(404);
    await sleep(100);
    expect((await exports()).some((e) => e.actor === 'UAUD' && /^2 of 2 rows · /.test(e.detail))).toBe(true);
  });

  it('a HEAD on the download link (a link previewer, a download manager) leaves it working: the GET after it downloads', async () => {
    const made = await auditor.json<{ rows: number; url: string }>('/api/gallery/export', {
      method: 'POST', body: JSON.stringify({ format: 'csv', from: '2026-10-10', to: '2026-10-11' }), headers: JSON_HEADERS,
    });
    const before = (await exports()).length;
    // Someone else's HEAD, then the asker's own (twice): headers only, nothing used up, nothing exported.
    expect((await member.fetch(made.body.url, { method: 'HEAD', origin: null, csrf: null })).status).toBe(404);
    for (let i = 0; i < 2; i++) {
      const head = await auditor.fetch(made.body.url, { method: 'HEAD', origin: null, csrf: null });
      expect(head.status).toBe(200);
      expect(head.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      expect(head.headers.get('content-disposition')).toMatch(/^attachment; filename="zimage-provenance-2026-10-10-2026-10-12\.csv"$/);
      expect(head.headers.get('x-row-count')).toBe('2');
      expect(await head.text()).toBe('');
    }
    await sleep(100);
    expect((await exports()).length).toBe(before);
    const res = await auditor.fetch(made.body.url);
    expect(res.status).toBe(200);
    const rows = parseCsv(await res.text(), { columns: true }) as Array<Record<string, string>>;
    expect(rows.map((r) => r.id).sort()).toEqual(['jexp0-0', 'jexp1-0']);
    // Used by that GET: a HEAD now says so too.
    expect((await auditor.fetch(made.body.url, { method: 'HEAD', origin: null, csrf: null })).status).toBe(404);
    expect((await auditor.fetch(made.body.url)).status).toBe(404);
  });

  it('a client that stops reading a huge export stops the database reads: memory stays bounded, the audit log says so', async () => {
    const many = Array.from({ length: 12_000 }, (_, i) => storedImage({
      jobId: `jbulk${String(i).padStart(5, '0')}`, prompt: `bulk row ${i} ${'lorem ipsum '.repeat(20)}`, platform: 'slack', workspace: 'T1', user: 'UBULK',
      channelKind: 'public', at: new Date(Date.UTC(2026, 8, 1) + i * 60_000).toISOString(),
    }));
    for (let i = 0; i < many.length; i += 1000) await bot.library.record(many.slice(i, i + 1000));
    const made = await auditor.json<{ rows: number; url: string }>('/api/gallery/export', {
      method: 'POST', body: JSON.stringify({ format: 'jsonl', person: 'UBULK' }), headers: JSON_HEADERS,
    });
    expect(made.body.rows).toBe(12_000);
    const res = await auditor.fetch(made.body.url);
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(first.done).toBe(false);
    expect(Buffer.from(first.value!).toString('utf8').split('\n')[0]).toContain('"prompt":"bulk row 11999');
    await reader.cancel();
    let entry;
    for (const until = Date.now() + 10_000; !entry && Date.now() < until; await sleep(100)) {
      entry = (await exports()).find((e) => e.target === 'jsonl' && /of 12000 rows/.test(e.detail));
    }
    expect(entry!.detail).toMatch(/\(stopped early\)/);
    const sent = Number(/^(\d+) of/.exec(entry!.detail)![1]);
    expect(sent).toBeLessThan(12_000);
  });
});
