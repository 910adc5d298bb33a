/**
 * `npm run bench:index [-- --rows 100000 --runs 200 --only pglite|postgres]`: the image index with generated
 * rows, on PGlite and on PostgreSQL (DATABASE_URL, else a private server from the system's binaries). Prints
 * figures — gallery first page, a filtered page, a deep page, prompt searches (English, Chinese, a miss) at
 * p50/p95 — and the export of every row as JSON Lines with its peak RSS. Writes data/bench/index-<time>.md.
 * Figures, not a test: the goals (< 50 ms p95, bounded export memory) are for a person to read.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sql, type Kysely } from 'kysely';
import { imageKey, thumbnailKey } from '../../src/assets/asset-store.js';
import { provenanceRecord } from '../../src/assets/provenance.js';
import type { ChannelKind, ImageMetadata } from '../../src/jobs/types.js';
import { openLibraryDb, type DbKind } from '../../src/library/db.js';
import { exportImages } from '../../src/library/export.js';
import { rowFromProvenance, upsertRows, type NewImageRow } from '../../src/library/image-row.js';
import { migrate } from '../../src/library/migrations.js';
import { listImages, type ImageFilter } from '../../src/library/queries.js';
import type { LibrarySchema } from '../../src/library/schema.js';
import type { Viewer } from '../../src/library/visibility.js';
import { startPrivatePostgres } from '../helpers/private-postgres.js';
import { percentile } from './stats.js';
import { mulberry32 } from '../../worker/engine/noise.js';

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
};
const ROWS = Number(arg('rows', '100000'));
const RUNS = Number(arg('runs', '200'));
const ONLY = arg('only', '');

const SUBJECTS = ['a ginger cat', 'a red fox', 'summer sale poster', 'product shot of a watch', 'team avatar', 'city skyline at night', 'mountain lake',
  '蓝色科技感手机海报', '春节促销海报', '一只橘猫在窗台上', '城市夜景', '产品主图 白色背景', '水墨山水画'];
const STYLES = ['watercolor', 'photoreal', 'flat illustration', 'isometric 3d', '赛博朋克风格', '极简风格', 'film grain', 'studio lighting'];
const KINDS: ChannelKind[] = ['public', 'public', 'public', 'private', 'dm', 'public', 'private', 'public'];

/**
 * The same rows on every call, made a batch at a time (so they do not sit in memory during the export): `n` in
 * the measured workspace T1 and a tenth as many in another one (T2), which every T1 query must leave out.
 */
function* generatedRows(n: number, batch = 1000): Generator<NewImageRow[]> {
  const total = n + Math.floor(n / 10);
  const r = mulberry32(42);
  const start = Date.UTC(2026, 8, 1);
  let rows: NewImageRow[] = [];
  for (let i = 0; i < total; i++) {
    const at = new Date(start + Math.floor((i / total) * 90 * 86_400_000) + Math.floor(r() * 60_000));
    const jobId = `jb${i.toString(36).padStart(6, '0')}`;
    const key = imageKey(jobId, 0, at);
    const channel = Math.floor(r() * 24);
    const meta: ImageMetadata = {
      jobId, index: 0, prompt: `${SUBJECTS[Math.floor(r() * SUBJECTS.length)]}, ${STYLES[Math.floor(r() * STYLES.length)]}, variant ${Math.floor(r() * 1000)}`,
      seed: Math.floor(r() * 2 ** 32), width: 1024, height: 1024, steps: 8, model: { id: 'z-image-turbo', name: 'Z-Image-Turbo', demo: false, version: 'v2' },
      template: r() < 0.3 ? { id: ['poster', 'product-shot', 'team-avatar'][Math.floor(r() * 3)]!, version: 'v1' } : null,
      platform: 'slack', workspace: i % 11 === 10 ? 'T2' : 'T1', channel: `C${channel}`, channelKind: KINDS[channel % KINDS.length]!,
      user: `U${Math.floor(r() * 60)}`, userName: `user ${Math.floor(r() * 60)}`, createdAt: at.toISOString(),
      queueWaitMs: Math.floor(r() * 20_000), generationMs: 1800 + Math.floor(r() * 600), stepMs: 230, thumbnailKey: thumbnailKey(key),
    };
    const row = rowFromProvenance(provenanceRecord(meta, key));
    if ('error' in row) throw new Error(row.error);
    rows.push(row);
    if (rows.length === batch) { yield rows; rows = []; }
  }
  if (rows.length > 0) yield rows;
}

async function timed(runs: number, fn: () => Promise<unknown>): Promise<{ p50: number; p95: number }> {
  for (let i = 0; i < 5; i++) await fn(); // warm the caches and the plans
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  return { p50: percentile(ms, 50)!, p95: percentile(ms, 95)! };
}

interface ExportFigures { rows: number; seconds: number; rssBeforeMb: number; rssPeakMb: number; liveHeapPeakMb: number }
interface BackendFigures { kind: DbKind; insertPerS: number; reopenMs: number; rssAfterReopenMb: number; queries: Array<{ name: string; p50: number; p95: number; rows: number }>; exports: { small: ExportFigures; all: ExportFigures } }

/**
 * Export as JSON Lines into a sink that throws it away, sampling memory: RSS, and the live JS heap (after a
 * collection, so garbage not yet collected does not count) — what the export holds at once.
 */
async function measureExport(k: Kysely<LibrarySchema>, viewer: Viewer, filter: ImageFilter): Promise<ExportFigures> {
  const mb = (b: number): number => Math.round(b / 1e6);
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  let livePeak = process.memoryUsage().heapUsed;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    global.gc?.();
    livePeak = Math.max(livePeak, process.memoryUsage().heapUsed);
  }, 100);
  const e0 = performance.now();
  const out = exportImages(k, viewer, filter, 'jsonl');
  await pipeline(out.stream, new Writable({ write: (_c, _e, done) => done() }));
  const { rows } = await out.done;
  clearInterval(sampler);
  return { rows, seconds: (performance.now() - e0) / 1000, rssBeforeMb: mb(rssBefore), rssPeakMb: mb(rssPeak), liveHeapPeakMb: mb(livePeak) };
}

async function bench(kind: DbKind, url: string | undefined): Promise<BackendFigures> {
  const dataDir = mkdtempSync(join(tmpdir(), `zimage-bench-index-${kind}-`));
  const opts = { dataDir, ...(url ? { url } : {}) };
  const loading = await openLibraryDb(opts);
  const t0 = performance.now();
  let inserted = 0;
  try {
    await migrate(loading.kysely as Kysely<unknown>);
    for (const rows of generatedRows(ROWS)) { await upsertRows(loading.kysely, rows); inserted += rows.length; }
    await sql`analyze images`.execute(loading.kysely);
  } finally {
    await loading.close();
  }
  const insertPerS = inserted / ((performance.now() - t0) / 1000);
  // Measured as a bot has it: the database opened afresh (a restart), not the one that took 110 000 inserts.
  global.gc?.();
  const r0 = performance.now();
  const db = await openLibraryDb(opts);
  const reopenMs = performance.now() - r0;
  try {
    const k = db.kysely as Kysely<LibrarySchema>;
    await listImages(k, { platform: 'slack', workspace: 'T1', user: 'U1', manager: false, audit: false });
    const rssAfterReopenMb = Math.round(process.memoryUsage().rss / 1e6);
    const member: Viewer = { platform: 'slack', workspace: 'T1', user: 'U7', manager: false, audit: false };
    const auditor: Viewer = { ...member, user: 'UA', audit: true };
    const deep = await listImages(k, member, {}, { limit: 50 });
    let cursor = deep.next!;
    for (let i = 0; i < 40; i++) cursor = (await listImages(k, member, {}, { limit: 50, cursor })).next!; // page 42
    const cases: Array<[string, Viewer, ImageFilter, string?]> = [
      ['gallery first page (member, 50)', member, {}],
      ['gallery first page (auditor, 50)', auditor, {}],
      ['gallery page 42 (cursor)', member, {}, cursor],
      ['person filter, first page', member, { person: 'U12' }],
      ['channel + date range', member, { channel: 'C3', from: new Date(Date.UTC(2026, 9, 1)), to: new Date(Date.UTC(2026, 9, 15)) }],
      ['search "poster"', member, { search: 'poster' }],
      ['search "海报"', member, { search: '海报' }],
      ['search "科技感 海报"', member, { search: '科技感 海报' }],
      ['search "watercolor fox"', member, { search: 'watercolor fox' }],
      ['search a miss ("zebra")', member, { search: 'zebra' }],
      ['search a two-character miss ("花园")', member, { search: '花园' }],
      ['search a rare word ("variant 123")', member, { search: 'variant 123,' }],
    ];
    const queries: BackendFigures['queries'] = [];
    for (const [name, viewer, filter, from] of cases) {
      let n = 0;
      const t = await timed(RUNS, async () => { n = (await listImages(k, viewer, filter, { limit: 50, ...(from ? { cursor: from } : {}) })).images.length; });
      queries.push({ name, ...t, rows: n });
      process.stderr.write(`  ${kind}: ${name}: p50 ${t.p50.toFixed(1)} ms, p95 ${t.p95.toFixed(1)} ms (${n} rows)\n`);
    }
    // A tenth of the rows (9 days), then all of them: the same memory if the export is bounded.
    const small = await measureExport(k, auditor, { from: new Date(Date.UTC(2026, 8, 1)), to: new Date(Date.UTC(2026, 8, 10)) });
    const all = await measureExport(k, auditor, {});
    return { kind, insertPerS, reopenMs, rssAfterReopenMb, queries, exports: { small, all } };
  } finally {
    await db.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function markdown(at: string, figures: BackendFigures[]): string {
  const f1 = (x: number): string => x.toFixed(1);
  const lines = [`# Image index benchmark — ${at}`, '',
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${Math.round(totalmem() / 1e9)} GB, Node ${process.version}. ${ROWS.toLocaleString('en')} generated rows in the measured workspace (90 days, 60 people, 24 channels; 5 in 8 channels public) and ${Math.floor(ROWS / 10).toLocaleString('en')} in another; the database reopened after loading (as after a restart); ${RUNS} runs per query after 5 warm-up runs, pages of 50, as a member unless it says auditor.`, '',
    `| query | ${figures.map((f) => `${f.kind} p50 / p95 (ms)`).join(' | ')} | rows |`, `|---|${figures.map(() => '---').join('|')}|---|`];
  for (const [i, q] of figures[0]!.queries.entries()) lines.push(`| ${q.name} | ${figures.map((f) => `${f1(f.queries[i]!.p50)} / ${f1(f.queries[i]!.p95)}`).join(' | ')} | ${q.rows} |`);
  lines.push('', `| export (JSON Lines, as an auditor) | ${figures.map((f) => `${f.kind}: 9 days`).join(' | ')} | ${figures.map((f) => `${f.kind}: everything`).join(' | ')} |`, `|---|${figures.map(() => '---|---').join('|')}|`);
  const both = (pick: (e: ExportFigures) => string): string => [...figures.map((f) => pick(f.exports.small)), ...figures.map((f) => pick(f.exports.all))].join(' | ');
  lines.push(`| rows | ${both((e) => e.rows.toLocaleString('en'))} |`);
  lines.push(`| time | ${both((e) => `${e.seconds.toFixed(1)} s`)} |`);
  lines.push(`| RSS before → peak | ${both((e) => `${e.rssBeforeMb} → ${e.rssPeakMb} MB`)} |`);
  lines.push(`| live JS heap, peak | ${both((e) => `${e.liveHeapPeakMb} MB`)} |`);
  lines.push('', '| loading | ' + figures.map((f) => f.kind).join(' | ') + ' |', `|---|${figures.map(() => '---').join('|')}|`);
  lines.push(`| insert (batches of 1000, upsert) | ${figures.map((f) => `${Math.round(f.insertPerS).toLocaleString('en')} rows/s`).join(' | ')} |`);
  lines.push(`| open after loading / RSS then | ${figures.map((f) => `${Math.round(f.reopenMs)} ms / ${f.rssAfterReopenMb} MB`).join(' | ')} |`);
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
  const figures: BackendFigures[] = [];
  if (ONLY !== 'postgres') {
    process.stderr.write(`pglite: indexing ${ROWS} rows…\n`);
    figures.push(await bench('pglite', undefined));
  }
  if (ONLY !== 'pglite') {
    const server = process.env.DATABASE_URL ? undefined : await startPrivatePostgres();
    try {
      process.stderr.write(`postgres (${server ? 'private server' : 'DATABASE_URL'}): indexing ${ROWS} rows…\n`);
      if (server) {
        const { default: pg } = await import('pg');
        const c = new pg.Client({ connectionString: server.url });
        await c.connect();
        await c.query('create database bench');
        await c.end();
      }
      figures.push(await bench('postgres', server ? server.url.replace(/\/postgres$/, '/bench') : process.env.DATABASE_URL));
    } finally {
      await server?.stop();
    }
  }
  const at = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const md = markdown(at, figures);
  mkdirSync('data/bench', { recursive: true });
  const file = join('data/bench', `index-${at.replace(/[:]/g, '-')}`);
  writeFileSync(`${file}.md`, md);
  writeFileSync(`${file}.json`, JSON.stringify({ at, rows: ROWS, runs: RUNS, figures }, null, 2));
  process.stdout.write(md);
  process.stderr.write(`written to ${file}.md and .json\n`);
}

main().catch((err: unknown) => { process.stderr.write(`${(err as Error).stack ?? String(err)}\n`); process.exit(1); });
