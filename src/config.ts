/**
 * Configuration, read once at start: environment (+ `.env`) and an optional YAML settings file,
 * validated against a schema, then frozen. An error names the variable or field and how to fix it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { ZimageError } from './errors.js';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const bool = z.enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off']).transform((v) => ['1', 'true', 'yes', 'on'].includes(v));

/** Environment variables: name → schema, with the help text shown when the value is wrong. */
const envSchema = z.object({
  PORT: int(0, 65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  PUBLIC_URL: z.url().optional(),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://').optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  CONFIG_FILE: z.string().min(1).optional(),
  QUEUE_PREFIX: z.string().regex(/^[a-zA-Z0-9_-]+$/, 'letters, digits, _ and - only').default('zimage'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOCALE: z.enum(['en', 'zh-CN']).default('en'),
  ZIMAGE_MODEL_DIR: z.string().min(1).optional(),
  ZIMAGE_EP: z.enum(['cpu', 'cuda', 'auto']).default('cpu'),
  ZIMAGE_THREADS: int(0, 256).default(0),
  DEMO_STEP_DELAY_MS: int(0, 10_000).default(120),
  WORKER_LOCK_MS: int(1000, 3_600_000).default(30_000),
  WORKER_STALLED_INTERVAL_MS: int(500, 3_600_000).default(15_000),
  STATUS_TICK_MS: int(50, 60_000).default(500),
  PLAYGROUND: bool.default(true),
  ADMIN_TOKEN: z.string().min(16, 'use at least 16 characters').optional(),
  // Slack (adapters/slack): enabled when SLACK_BOT_TOKEN is set.
  SLACK_BOT_TOKEN: z.string().regex(/^xoxb-/, 'a bot token starts with xoxb-').optional(),
  SLACK_APP_TOKEN: z.string().regex(/^xapp-/, 'an app-level token starts with xapp-').optional(),
  SLACK_SIGNING_SECRET: z.string().min(8).optional(),
  SLACK_MODE: z.enum(['socket', 'http']).optional(),
  SLACK_API_URL: z.url().optional(),
  // Lark / Feishu (adapters/lark): enabled when LARK_APP_ID is set.
  LARK_APP_ID: z.string().min(1).optional(),
  LARK_APP_SECRET: z.string().min(1).optional(),
  LARK_DOMAIN: z.string().min(1).default('feishu'),
  LARK_MODE: z.enum(['ws', 'webhook']).default('ws'),
  LARK_VERIFICATION_TOKEN: z.string().min(1).optional(),
  LARK_ENCRYPT_KEY: z.string().min(1).optional(),
});

const sizeSchema = z.string().regex(/^\d+x\d+$/, 'write WIDTHxHEIGHT, e.g. 1024x1024');

/** The YAML settings file (CONFIG_FILE, default ./zimage.yml when present). */
const fileSchema = z.object({
  locale: z.enum(['en', 'zh-CN']).optional(),
  generation: z.object({
    defaultSize: sizeSchema.default('1024x1024'),
    defaultSteps: int(1, 16).default(8),
    maxCount: int(1, 4).default(4),
    maxPromptChars: int(1, 20_000).default(4000),
    maxTokens: int(1, 4096).default(512),
  }).strict().default({ defaultSize: '1024x1024', defaultSteps: 8, maxCount: 4, maxPromptChars: 4000, maxTokens: 512 }),
  /** Reply language per workspace, keyed `<platform>:<workspace>` (e.g. `lark:tenant123`); else `locale`. */
  workspaceLocales: z.record(z.string(), z.enum(['en', 'zh-CN'])).default({}),
  status: z.object({
    /** Minimum time between two edits of one status message, per platform. */
    minEditIntervalMs: z.record(z.string(), int(0, 600_000)).default({}),
  }).strict().default({ minEditIntervalMs: {} }),
}).strict();

export type EnvConfig = z.infer<typeof envSchema>;
export type FileConfig = z.infer<typeof fileSchema>;

export interface Config {
  env: Readonly<EnvConfig>;
  settings: Readonly<FileConfig>;
  /** Absolute data directory. */
  dataDir: string;
  /** The file the settings came from, if any. */
  settingsFile?: string;
  defaults: { width: number; height: number; steps: number };
}

function describeIssues(issues: z.core.$ZodIssue[], where: (path: PropertyKey[]) => string): string {
  return issues.map((i) => `  - ${where(i.path)}: ${i.message}`).join('\n');
}

function loadSettingsFile(path: string | undefined): { settings: FileConfig; file?: string } {
  const file = path ? resolve(path) : existsSync('zimage.yml') ? resolve('zimage.yml') : undefined;
  if (!file) return { settings: fileSchema.parse({}) };
  if (!existsSync(file)) {
    throw new ZimageError('CONFIG_INVALID', `CONFIG_FILE points at ${file}, which does not exist. Create it or unset CONFIG_FILE.`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8')) ?? {};
  } catch (err) {
    const pos = err instanceof YAMLParseError && err.linePos ? ` (line ${err.linePos[0].line}, column ${err.linePos[0].col})` : '';
    throw new ZimageError('CONFIG_INVALID', `${file}${pos} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ZimageError('CONFIG_INVALID', `${file} has invalid settings:\n${describeIssues(parsed.error.issues, (p) => p.join('.') || '(top level)')}`);
  }
  return { settings: parsed.data, file };
}

/** Load `.env` (if present) into process.env without overriding variables already set. */
export function loadDotEnv(path = '.env'): void {
  if (!existsSync(path)) return;
  for (const line of readFileSync(path, 'utf8').split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!m || line.trimStart().startsWith('#')) continue;
    const key = m[1]!;
    let value = m[2]!;
    if (/^(['"]).*\1$/.test(value)) value = value.slice(1, -1);
    if (process.env[key] === undefined) process.env[key] = value;
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const known = Object.keys(envSchema.shape);
  const picked = Object.fromEntries(known.filter((k) => env[k] !== undefined && env[k] !== '').map((k) => [k, env[k]]));
  const parsed = envSchema.safeParse(picked);
  if (!parsed.success) {
    throw new ZimageError('CONFIG_INVALID', `Invalid environment:\n${describeIssues(parsed.error.issues, (p) => {
      const name = String(p[0]);
      return `${name}=${JSON.stringify(env[name] ?? '')}`;
    })}\nFix the variable (or remove it to use the default) and start again.`);
  }
  const { settings, file } = loadSettingsFile(parsed.data.CONFIG_FILE);
  const [w, h] = settings.generation.defaultSize.split('x').map(Number) as [number, number];
  const config: Config = {
    env: Object.freeze(parsed.data),
    settings: Object.freeze(settings),
    dataDir: resolve(parsed.data.DATA_DIR),
    defaults: Object.freeze({ width: w, height: h, steps: settings.generation.defaultSteps }),
    ...(file ? { settingsFile: file } : {}),
  };
  return Object.freeze(config);
}
