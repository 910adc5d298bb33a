import { describe, expect, it } from 'vitest';
import { larkConfigured, readLarkSettings, resolveDomain } from '../../adapters/lark/lark-settings.js';
import { loadConfig } from '../../src/config.js';

const base = { CONFIG_FILE: '', LARK_APP_ID: 'cli_a1b2c3d4e5f60718', LARK_APP_SECRET: 's3cret' };
const settings = (env: Record<string, string>) => readLarkSettings(loadConfig({ ...base, ...env }));

describe('Lark settings', () => {
  it('defaults: long connection on Feishu, zh-CN unless configured otherwise', () => {
    const s = settings({});
    expect([s.mode, s.domain, s.localeOf('t1')]).toEqual(['ws', 'https://open.feishu.cn', 'zh-CN']);
    expect(settings({ LARK_LOCALE: 'en' }).localeOf('t1')).toBe('en');
    expect(settings({ LOCALE: 'en' }).localeOf('t1')).toBe('zh-CN');
  });

  it('domains: feishu, lark, or a base URL', () => {
    expect(resolveDomain('lark')).toBe('https://open.larksuite.com');
    expect(resolveDomain('Feishu')).toBe('https://open.feishu.cn');
    expect(resolveDomain('http://127.0.0.1:9999/')).toBe('http://127.0.0.1:9999');
    expect(() => resolveDomain('open.example.com')).toThrow(/LARK_DOMAIN/);
    expect(() => resolveDomain('ftp://x')).toThrow(/LARK_DOMAIN/);
  });

  it('invalid combinations fail at start, naming the variable', () => {
    expect(() => settings({ LARK_MODE: 'webhook' })).toThrow(/LARK_VERIFICATION_TOKEN/);
    expect(() => readLarkSettings(loadConfig({ CONFIG_FILE: '', LARK_APP_ID: 'cli_a1b2c3d4e5f60718' }))).toThrow(/LARK_APP_SECRET/);
    expect(() => readLarkSettings(loadConfig({ CONFIG_FILE: '', LARK_APP_SECRET: 'x' }))).toThrow(/LARK_APP_ID/);
    expect(() => settings({ LARK_APP_ID: 'my-app' })).toThrow(/LARK_APP_ID="my-app"/);
    expect(settings({ LARK_APP_ID: 'my-app', LARK_MODE: 'webhook', LARK_VERIFICATION_TOKEN: 'v' }).mode).toBe('webhook');
    expect(() => loadConfig({ CONFIG_FILE: '', LARK_LOCALE: 'fr' })).toThrow(/LARK_LOCALE/);
  });

  it('Lark is on when either credential is set', () => {
    expect(larkConfigured(loadConfig({ CONFIG_FILE: '' }))).toBe(false);
    expect(larkConfigured(loadConfig({ CONFIG_FILE: '', LARK_APP_SECRET: 'x' }))).toBe(true);
  });
});
