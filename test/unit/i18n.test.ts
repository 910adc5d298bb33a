import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { catalogs, messagesDir, placeholdersOf, readCatalog, useMessagesDir } from '../../src/i18n/catalog.js';
import { isZimageError } from '../../src/errors.js';
import { formatDuration, formatEta, hasMessage, interpolate, LOCALES, normalizeLocale, t } from '../../src/i18n/index.js';

describe('normalizeLocale', () => {
  it.each([
    ['zh', 'zh-CN'], ['zh-CN', 'zh-CN'], ['zh_cn', 'zh-CN'], ['ZH-cn', 'zh-CN'], ['zh-Hans', 'zh-CN'], ['zh-Hans-CN', 'zh-CN'], ['zh-SG', 'zh-CN'],
    ['en', 'en'], ['en-US', 'en'], ['en_us', 'en'], ['ja_JP', 'en'], ['fr', 'en'], ['', 'en'], ['zhx', 'en'],
    ['zh-TW', 'en'], ['zh-Hant', 'en'], ['zh-HK', 'en'],
  ])('%j → %s', (input, expected) => {
    expect(normalizeLocale(input)).toBe(expected);
  });

  it('treats missing values as English', () => {
    expect(normalizeLocale(undefined)).toBe('en');
    expect(normalizeLocale(null)).toBe('en');
  });
});

describe('message catalogues', () => {
  const en = catalogs().get('en')!;
  const zh = catalogs().get('zh-CN')!;

  it('are found from the module location and hold texts for every locale', () => {
    expect(messagesDir().endsWith(join('templates', 'messages'))).toBe(true);
    for (const locale of LOCALES) expect(catalogs().get(locale)?.size).toBeGreaterThan(20);
  });

  it('have the same keys in every language', () => {
    expect([...zh.keys()].sort()).toEqual([...en.keys()].sort());
  });

  it('use the same placeholders per key in every language', () => {
    for (const [key, text] of en) {
      expect({ key, placeholders: placeholdersOf(zh.get(key) ?? '') }).toEqual({ key, placeholders: placeholdersOf(text) });
    }
  });

  it('have no empty texts, and Chinese texts are actually Chinese', () => {
    for (const [key, text] of [...en, ...zh]) expect({ key, empty: text.trim() === '' }).toEqual({ key, empty: false });
    const untranslated = [...zh].filter(([key, text]) => text === en.get(key) && /[A-Za-z]{4,}/.test(text.replace(/\{[^}]*\}/g, '')));
    expect(untranslated).toEqual([]);
  });

  it('reads a malformed file with a clear error', () => {
    expect(() => readCatalog(join(messagesDir(), 'missing.yaml'))).toThrow(/missing\.yaml/);
    const dir = mkdtempSync(join(tmpdir(), 'zimage-messages-'));
    try {
      writeFileSync(join(dir, 'bad.yaml'), 'status:\n  queued: [a, b]\n');
      expect(() => readCatalog(join(dir, 'bad.yaml'))).toThrow(/bad\.yaml: "status\.queued" must be a text/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('t', () => {
  it('fills placeholders in the requested language', () => {
    expect(t('en', 'status.generating', { step: 3, steps: 8 })).toBe('Generating — step 3/8');
    expect(t('zh-CN', 'status.generating', { step: 3, steps: 8 })).toBe('生成中 — 第 3/8 步');
  });

  it('normalises the locale tag', () => {
    expect(t('zh', 'status.cancelled')).toBe('已取消');
    expect(t('zh-Hans', 'status.cancelled')).toBe('已取消');
    expect(t('zh_CN', 'status.cancelled')).toBe('已取消');
    expect(t('de-DE', 'status.cancelled')).toBe('Cancelled');
  });

  it('throws for a key missing everywhere and for a missing parameter', () => {
    expect(() => t('en', 'no.such.key')).toThrow(/Missing message "no\.such\.key"/);
    expect(() => t('zh-CN', 'status.generating', { step: 1 })).toThrow(/\{steps\}/);
    const code = (fn: () => unknown): string | undefined => {
      try {
        fn();
      } catch (err) {
        return isZimageError(err) ? err.code : 'not a ZimageError';
      }
      return undefined;
    };
    expect(code(() => t('en', 'no.such.key'))).toBe('MESSAGE_MISSING');
    expect(code(() => t('en', 'status.queued', { position: 1 }))).toBe('MESSAGE_PARAM_MISSING');
    expect(hasMessage('en', 'no.such.key')).toBe(false);
    expect(hasMessage('zh', 'status.cancelled')).toBe(true);
  });

  it('falls back to English for a key only English has (catalogues from another directory)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'zimage-messages-'));
    writeFileSync(join(dir, 'en.yaml'), 'greet: "Hello {name}"\nonly:\n  en: "English only"\n');
    writeFileSync(join(dir, 'zh-CN.yaml'), 'greet: "你好，{name}"\n');
    useMessagesDir(dir);
    try {
      expect(t('zh', 'greet', { name: '小明' })).toBe('你好，小明');
      expect(t('zh-CN', 'only.en')).toBe('English only');
      expect(t('fr', 'greet', { name: 'Ana' })).toBe('Hello Ana');
    } finally {
      useMessagesDir(undefined);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('does not interpret placeholders inside parameter values', () => {
    expect(interpolate('a {x} b', { x: '{y}' })).toBe('a {y} b');
    expect(interpolate('{ not a placeholder } {}', {})).toBe('{ not a placeholder } {}');
  });
});

describe('durations', () => {
  it('formats elapsed times', () => {
    expect(formatDuration(850, 'en')).toBe('850 ms');
    expect(formatDuration(3240, 'en')).toBe('3.2 s');
    expect(formatDuration(42_400, 'en')).toBe('42 s');
    expect(formatDuration(125_000, 'en')).toBe('2 min 5 s');
    expect(formatDuration(120_000, 'en')).toBe('2 min');
    expect(formatDuration(3_780_000, 'en')).toBe('1 h 3 min');
    expect(formatDuration(-5, 'en')).toBe('0 ms');
    expect(formatDuration(3240, 'zh-CN')).toBe('3.2 秒');
    expect(formatDuration(125_000, 'zh-CN')).toBe('2 分 5 秒');
  });

  it('formats estimates coarsely and omits unknown ones', () => {
    expect(formatEta(6200, 'en')).toBe('about 6 s');
    expect(formatEta(200, 'en')).toBe('about 1 s');
    expect(formatEta(59_700, 'en')).toBe('about 1 min');
    expect(formatEta(100_000, 'en')).toBe('about 2 min');
    expect(formatEta(2 * 3600_000, 'en')).toBe('about 2 h');
    expect(formatEta(6200, 'zh-CN')).toBe('约 6 秒');
    expect(formatEta(100_000, 'zh-CN')).toBe('约 2 分钟');
    expect(formatEta(null, 'en')).toBeUndefined();
    expect(formatEta(Number.NaN, 'en')).toBeUndefined();
    expect(formatEta(-1, 'en')).toBeUndefined();
  });
});
