/**
 * The Lark adapter's configuration, read from the bot's Config and checked as a whole: combinations the
 * schema alone cannot catch (webhook mode without a verification token, a secret without an app id …) stop
 * the bot at start with a message naming the variable to fix.
 */
import type { Config, FileConfig } from '../../src/config.js';
import { ZimageError } from '../../src/errors.js';

export type LarkMode = 'ws' | 'webhook';

export interface LarkSettings {
  appId: string;
  appSecret: string;
  /** Base URL of the open platform, e.g. https://open.feishu.cn. */
  domain: string;
  mode: LarkMode;
  verificationToken?: string;
  encryptKey?: string;
  /** Reply language for a tenant: workspaceLocales["lark:<tenant>"], else LARK_LOCALE, else settings `locale`, else zh-CN. */
  localeOf(tenant: string): string;
}

export const DOMAINS: Readonly<Record<string, string>> = {
  feishu: 'https://open.feishu.cn',
  lark: 'https://open.larksuite.com',
};

/** Lark joins when any of its credentials is set (a half-configured app is an error, not a silent no-op). */
export function larkConfigured(config: Config): boolean {
  return Boolean(config.env.LARK_APP_ID || config.env.LARK_APP_SECRET);
}

function invalid(message: string): ZimageError {
  return new ZimageError('CONFIG_INVALID', message);
}

export function resolveDomain(value: string): string {
  const known = DOMAINS[value.toLowerCase()];
  if (known) return known;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(`LARK_DOMAIN=${JSON.stringify(value)} is not valid: use feishu, lark, or the base URL of a private deployment (e.g. https://open.example.com).`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw invalid(`LARK_DOMAIN=${JSON.stringify(value)} must be an http(s) URL, feishu or lark.`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

export function readLarkSettings(config: Config, current?: () => Readonly<FileConfig>): LarkSettings {
  const env = config.env;
  if (!env.LARK_APP_ID) throw invalid('LARK_APP_SECRET is set but LARK_APP_ID is not: set LARK_APP_ID to the App ID (cli_…) from the developer console, or remove LARK_APP_SECRET.');
  if (!env.LARK_APP_SECRET) throw invalid('LARK_APP_ID is set but LARK_APP_SECRET is not: copy the App Secret from the developer console (Credentials & Basic Info).');
  const mode = env.LARK_MODE;
  // The long-connection client silently refuses other app ids; say so here instead.
  if (mode === 'ws' && !/^cli_[0-9a-fA-F]{16}$/.test(env.LARK_APP_ID)) {
    throw invalid(`LARK_APP_ID=${JSON.stringify(env.LARK_APP_ID)} does not look like an App ID (cli_ and 16 hex digits); the long connection (LARK_MODE=ws) needs the real one.`);
  }
  if (mode === 'webhook' && !env.LARK_VERIFICATION_TOKEN) {
    throw invalid('LARK_MODE=webhook needs LARK_VERIFICATION_TOKEN (developer console → Events & Callbacks → Encryption Strategy), so forged requests to /lark/events are refused.');
  }
  // Read when a reply's language is chosen: a settings reload applies at once.
  const settings = current ?? (() => config.settings);
  return {
    appId: env.LARK_APP_ID,
    appSecret: env.LARK_APP_SECRET,
    domain: resolveDomain(env.LARK_DOMAIN),
    mode,
    ...(env.LARK_VERIFICATION_TOKEN ? { verificationToken: env.LARK_VERIFICATION_TOKEN } : {}),
    ...(env.LARK_ENCRYPT_KEY ? { encryptKey: env.LARK_ENCRYPT_KEY } : {}),
    localeOf: (tenant) => settings().workspaceLocales[`lark:${tenant}`] ?? env.LARK_LOCALE ?? settings().locale ?? 'zh-CN',
  };
}
