/** The gallery's pure rules: same-origin checks, filter parsing, safe redirects, links in texts, the public base URL. */
import { describe, expect, it } from 'vitest';
import { splitLinks } from '../../src/chat/text-links.js';
import { filterOf, parseDay } from '../../src/gallery/filters.js';
import { safeNext } from '../../src/gallery/page-routes.js';
import { escapeHtml } from '../../src/gallery/pages.js';
import { sameOrigin } from '../../src/gallery/same-origin.js';
import type { FastifyRequest } from '../../src/http/server.js';
import { publicBase } from '../../src/http/public-base.js';
import { windowRange } from '../../src/library/usage-report.js';
import { usageReportOf } from '../../src/schedules/commands.js';
import { slackChatLink } from '../../adapters/slack/links.js';
import { larkChatLink } from '../../adapters/lark/links.js';

const req = (headers: Record<string, string>): FastifyRequest => ({ headers } as unknown as FastifyRequest);

describe('sameOrigin', () => {
  it.each([
    [{ host: 'localhost:3000', origin: 'http://localhost:3000' }, undefined, true],
    [{ host: 'bot.example:8443', origin: 'https://bot.example:8443' }, undefined, true],
    [{ host: 'localhost:3000', referer: 'http://localhost:3000/gallery?q=x' }, undefined, true],
    [{ host: '10.0.0.5:3000', origin: 'https://zimage.example.com' }, 'https://zimage.example.com/', true],
    [{ host: 'localhost:3000', origin: 'http://localhost:3001' }, undefined, false],
    [{ host: 'localhost:3000', origin: 'https://evil.example' }, undefined, false],
    [{ host: 'localhost:3000', origin: 'null' }, undefined, false],
    [{ host: 'localhost:3000' }, undefined, false],
    [{ host: 'localhost:3000', origin: 'file://' }, undefined, false],
    [{ host: 'localhost:3000', origin: 'not a url' }, undefined, false],
    [{ origin: 'http://localhost:3000' }, undefined, false],
  ])('%j (PUBLIC_URL %s) → %s', (headers, publicUrl, expected) => {
    expect(sameOrigin(req(headers as Record<string, string>), publicUrl)).toBe(expected);
  });
});

describe('gallery filters', () => {
  it('days are calendar days of the team\'s zone, the end day included', () => {
    expect(parseDay('2026-11-24', 'Asia/Shanghai', 'from').toISOString()).toBe('2026-11-23T16:00:00.000Z');
    expect(parseDay('2026-11-24', 'Asia/Shanghai', 'to', true).toISOString()).toBe('2026-11-24T16:00:00.000Z');
    expect(parseDay('2026-12-31', 'UTC', 'to', true).toISOString()).toBe('2027-01-01T00:00:00.000Z');
    expect(parseDay('2026-11-24T08:30:00Z', 'UTC', 'from').toISOString()).toBe('2026-11-24T08:30:00.000Z');
  });

  it.each(['2026-02-30', '2026-13-01', '26-11-24', 'yesterday', '1999-01-01', '2026-11-24T99:00'])('%j is a 400', (value) => {
    expect(() => parseDay(value, 'UTC', 'from')).toThrow(/must be a day/);
  });

  it('takes what it knows, bounded, and nothing else', () => {
    const f = filterOf({ person: ' U1 ', channel: ['C1', 'C2'], template: '', q: '海报', deleted: '1', user: 'U2', limit: '5', model: 'm'.repeat(1000) }, 'UTC');
    expect(f).toEqual({ person: 'U1', channel: 'C1', model: 'm'.repeat(300), search: '海报', includeDeleted: true });
  });
});

describe('sign-in redirects', () => {
  it.each([
    ['/gallery', '/gallery'], ['/gallery?image=j1-0', '/gallery?image=j1-0'], ['/gallery/usage', '/gallery/usage'],
    ['/gallery?person=alice&q=%E6%B5%B7', '/gallery?person=alice&q=%E6%B5%B7'],
    ['https://evil.example/', '/gallery'], ['//evil.example', '/gallery'], ['/gallery/../admin', '/gallery'], ['/api/gallery/me', '/gallery'],
    ['/gallery?x=<script>', '/gallery'], [undefined, '/gallery'], [42, '/gallery'],
  ])('%j → %s', (next, expected) => { expect(safeNext(next)).toBe(expected); });

  it('names from people are escaped on the server\'s pages', () => {
    expect(escapeHtml('<img src=x onerror="a()">&\'')).toBe('&lt;img src=x onerror=&quot;a()&quot;&gt;&amp;&#39;');
  });
});

describe('links in bot texts', () => {
  it('finds http(s) URLs; trailing punctuation belongs to the sentence', () => {
    expect(splitLinks('Open https://x.test/a?b=1. Then (http://y.test/c), or 「https://z.test/d」。')).toEqual([
      { text: 'Open ' }, { url: 'https://x.test/a?b=1' }, { text: '. Then (' }, { url: 'http://y.test/c' }, { text: '), or 「' },
      { url: 'https://z.test/d' }, { text: '」。' },
    ]);
    expect(splitLinks('no link, javascript:alert(1), ftp://x')).toEqual([{ text: 'no link, javascript:alert(1), ftp://x' }]);
    expect(splitLinks('https://')).toEqual([{ text: 'https://' }]);
  });
});

describe('where links point', () => {
  it('the public base: PUBLIC_URL, else localhost on a loopback port, else this host', () => {
    expect(publicBase('https://zimage.example.com/', [{ address: '127.0.0.1', port: 3000 }])).toBe('https://zimage.example.com');
    expect(publicBase(undefined, [{ address: '127.0.0.1', port: 3000 }, { address: '::1', port: 3000 }])).toBe('http://localhost:3000');
    expect(publicBase(undefined, [{ address: '0.0.0.0', port: 8080 }])).toMatch(/^http:\/\/[^/]+:8080$/);
    expect(publicBase(undefined, [{ address: '0.0.0.0', port: 8080 }])).not.toContain('localhost');
  });

  it('show in chat: Slack threads and channels, Lark chats; nothing for what cannot be linked', () => {
    expect(slackChatLink({ workspace: 'T1', channel: 'C1', thread: 'slack:T1:C1:1700000000.000100' })).toBe('https://app.slack.com/client/T1/C1/thread/C1-1700000000.000100');
    expect(slackChatLink({ workspace: 'T1', channel: 'C0123' })).toBe('https://slack.com/app_redirect?team=T1&channel=C0123');
    expect(slackChatLink({ workspace: 'T1', channel: 'U1' })).toBeNull();
    expect(slackChatLink({ workspace: 'T1', channel: 'C1&x=1' })).toBeNull();
    const feishu = larkChatLink('https://open.feishu.cn');
    expect(feishu({ workspace: 't', channel: 'oc_abc', thread: 'lark:t:oc_def:om_1' })).toBe('https://applink.feishu.cn/client/chat/open?openChatId=oc_def');
    expect(larkChatLink('https://open.larksuite.com')({ workspace: 't', channel: 'oc_abc' })).toBe('https://applink.larksuite.com/client/chat/open?openChatId=oc_abc');
    expect(larkChatLink('https://open.example.com')({ workspace: 't', channel: 'oc_abc' })).toBeNull();
    expect(feishu({ workspace: 't', channel: 'ou_person' })).toBeNull();
  });
});

describe('usage reports', () => {
  it('`usage week`, `usage month tz=…`, `usage` alone; an unknown period is refused', () => {
    expect(usageReportOf('week')).toEqual({ period: 'week', rest: '' });
    expect(usageReportOf('month tz=Asia/Shanghai')).toEqual({ period: 'month', rest: 'tz=Asia/Shanghai' });
    expect(usageReportOf('')).toEqual({ period: 'week', rest: '' });
    expect(usageReportOf('tz=UTC')).toEqual({ period: 'week', rest: 'tz=UTC' });
    expect(usageReportOf('本周')).toEqual({ period: 'week', rest: '' });
    expect(usageReportOf('fortnight')).toBeNull();
  });

  it('a scheduled report covers the previous, complete window; the command the current one', () => {
    const monday9 = Date.parse('2026-11-30T09:00:00Z');
    expect(windowRange('week', 'UTC', monday9, true)).toEqual({ from: new Date('2026-11-23T00:00:00Z'), to: new Date('2026-11-30T00:00:00Z'), timezone: 'UTC' });
    expect(windowRange('week', 'UTC', monday9)).toEqual({ from: new Date('2026-11-30T00:00:00Z'), to: new Date('2026-12-07T00:00:00Z'), timezone: 'UTC' });
    expect(windowRange('month', 'Asia/Shanghai', Date.parse('2026-12-01T03:00:00Z'), true).from.toISOString()).toBe('2026-10-31T16:00:00.000Z');
  });
});
