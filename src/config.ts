/**
 * Configuration, read once at start: environment (+ `.env`) and an optional YAML settings file,
 * validated against a schema, then frozen. An error names the variable or field and how to fix it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { ZimageError } from './errors.js';
import { secretValues } from './infra/logger.js';
import { quotaSchema } from './quota/policy.js';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const bool = z.enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off']).transform((v) => ['1', 'true', 'yes', 'on'].includes(v));

/** Environment variables: name → schema, with the help text shown when the value is wrong. */
const envSchema = z.object({
  PORT: int(0, 65535).default(3000),
  /** Unset: loopback only (127.0.0.1 and ::1), or every interface when a platform webhook needs the port (see listenHost). */
  HOST: z.string().min(1).optional(),
  PUBLIC_URL: z.url().optional(),
  REDIS_URL: z.string().regex(/^(rediss?|redis-sentinel):\/\//, 'must start with redis://, rediss:// or redis-sentinel://').optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  /**
   * PostgreSQL for the image index (src/library), shared by every bot replica. Unset → embedded PGlite under
   * DATA_DIR/db (one process only). Its value is never printed: it usually holds a password.
   */
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\/[^\s]+$/, 'must be a PostgreSQL URL: postgres://user:password@host:5432/database').optional(),
  CONFIG_FILE: z.string().min(1).optional(),
  QUEUE_PREFIX: z.string().regex(/^([a-zA-Z0-9_-]+|\{[a-zA-Z0-9_-]+\})$/, 'letters, digits, _ and - only, optionally in one {hash tag} for Redis Cluster').default('zimage'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOCALE: z.enum(['en', 'zh-CN']).default('en'),
  ZIMAGE_MODEL_DIR: z.string().min(1).optional(),
  ZIMAGE_EP: z.enum(['cpu', 'cuda', 'auto']).default('cpu'),
  ZIMAGE_THREADS: int(0, 256).default(0),
  DEMO_STEP_DELAY_MS: int(0, 10_000).default(120),
  /** `reference` (diffusers/Tongyi 8-step) or `webnn` (the ONNX helper's schedule). */
  ZIMAGE_SCHEDULE: z.enum(['reference', 'webnn']).default('reference'),
  ZIMAGE_SAFETY_CHECKER: bool.default(false),
  ZIMAGE_TEXT_CACHE_MB: int(0, 65_536).default(256),
  // The model download (npm run model:download): the Hugging Face repository, revision, mirror and token.
  ZIMAGE_MODEL_REPO: z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'owner/name, e.g. webnn/Z-Image-Turbo').optional(),
  ZIMAGE_MODEL_REVISION: z.string().regex(/^[\w.\/-]{1,200}$/, 'a branch, tag or commit').optional(),
  HF_ENDPOINT: z.url('a URL such as https://hf-mirror.com').optional(),
  HF_TOKEN: z.string().min(1).optional(),
  /** Jobs a worker holds at once: 2 lets the engine encode/decode one job while the transformer runs another. */
  WORKER_CONCURRENCY: int(1, 8).default(2),
  WORKER_LOCK_MS: int(1000, 3_600_000).default(30_000),
  WORKER_STALLED_INTERVAL_MS: int(500, 3_600_000).default(15_000),
  STATUS_TICK_MS: int(50, 60_000).default(500),
  /** Unset: on when no chat platform is configured, off next to Slack or Lark (see playgroundEnabled). */
  PLAYGROUND: bool.optional(),
  /** Access token for a Playground reachable beyond loopback (generated at start when unset). */
  PLAYGROUND_TOKEN: z.string().min(16, 'use at least 16 characters').max(256).regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces').optional(),
  /** `token`: every Playground request needs the session from the token link; `loopback`: only this machine may use it. */
  PLAYGROUND_ACCESS: z.enum(['token', 'loopback']).optional(),
  PLAYGROUND_HISTORY_MAX: int(50, 1_000_000).default(2000),
  PLAYGROUND_HISTORY_DAYS: int(1, 3650).default(7),
  PLAYGROUND_MAX_STREAMS: int(1, 100_000).default(200),
  PLAYGROUND_MAX_STREAMS_PER_ADDRESS: int(1, 10_000).default(20),
  PLAYGROUND_STREAM_BUFFER_BYTES: int(4096, 64 * 1024 * 1024).default(256 * 1024),
  // The HTTP port's own bounds (src/http/server.ts).
  HTTP_BODY_LIMIT_BYTES: int(1024, 64 * 1024 * 1024).default(1024 * 1024),
  HTTP_HEADERS_TIMEOUT_MS: int(100, 600_000).default(10_000),
  HTTP_REQUEST_TIMEOUT_MS: int(100, 3_600_000).default(30_000),
  HTTP_IDLE_TIMEOUT_MS: int(1000, 3_600_000).default(60_000),
  HTTP_MAX_CONNECTIONS: int(1, 1_000_000).default(2048),
  /** SIGINT/SIGTERM: running jobs may finish within this; then the process exits (unfinished jobs re-run elsewhere). */
  SHUTDOWN_TIMEOUT_MS: int(500, 600_000).default(15_000),
  /** Template presets directory (default: templates/presets in the repository). */
  TEMPLATES_DIR: z.string().min(1).optional(),
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
  /** Reply language in Lark workspaces without a `workspaceLocales` entry (default: settings `locale`, else zh-CN). */
  LARK_LOCALE: z.enum(['en', 'zh-CN']).optional(),
  // Asset storage (src/assets): local directory (DATA_DIR/outputs) or S3-compatible object storage.
  ASSET_STORE: z.enum(['local', 's3']).default('local'),
  ASSET_RETENTION_DAYS: int(0, 36_500).default(0),
  S3_BUCKET: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'a bucket name: 3-63 lower-case letters, digits, dots and dashes').optional(),
  S3_REGION: z.string().min(1).default('us-east-1'),
  S3_ENDPOINT: z.url('a URL such as http://minio.internal:9000').optional(),
  S3_FORCE_PATH_STYLE: bool.optional(),
  S3_PREFIX: z.string().regex(/^([A-Za-z0-9_.-]+\/)*$/, 'empty, or folder names each ending in /, e.g. zimage/').default(''),
  S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  // Delivery retries (platform 5xx / 429); a delivery still failing then goes to the dead-letter list.
  DELIVERY_ATTEMPTS: int(1, 100).default(12),
  DELIVERY_BACKOFF_MS: int(10, 3_600_000).default(1000),
  // Monitoring (src/observability): /metrics token and optional alerts into a chat thread.
  METRICS_TOKEN: z.string().min(16, 'use at least 16 characters').optional(),
  ALERT_THREAD: z.string().regex(/^[a-z]+:\S+$/, 'a thread reference <platform>:<id>, e.g. playground:m12').optional(),
  ALERT_P95_WAIT_MS: int(1000, 86_400_000).default(120_000),
  ALERT_FAILURE_RATE: z.coerce.number().min(0.001, 'a fraction above 0, e.g. 0.05 for 5 %').max(1, 'a fraction up to 1').default(0.1),
  ALERT_MIN_JOBS: int(1, 100_000).default(10),
  ALERT_NO_WORKER: bool.default(true),
  ALERT_CHECK_MS: int(1000, 3_600_000).default(30_000),
  ALERT_REPEAT_MS: int(10_000, 86_400_000).default(3_600_000),
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
  quota: quotaSchema.default(quotaSchema.parse({})),
  /** Reply language per workspace, keyed `<platform>:<workspace>` (e.g. `lark:tenant123`); else `locale`. */
  workspaceLocales: z.record(z.string(), z.enum(['en', 'zh-CN'])).default({}),
  schedules: z.object({
    /** The least time between two runs of one schedule (scheduled runs are charged to nobody). */
    minIntervalMinutes: int(1, 7 * 24 * 60).default(15),
  }).strict().default({ minIntervalMinutes: 15 }),
  status: z.object({
    /** Minimum time between two edits of one status message, per platform. */
    minEditIntervalMs: z.record(z.string(), int(0, 600_000)).default({}),
    /** Status edits per workspace per minute, per platform (a plan with higher rate limits). */
    editsPerMinute: z.record(z.string(), int(1, 100_000)).default({}),
  }).strict().default({ minEditIntervalMs: {}, editsPerMinute: {} }),
}).strict();

export type EnvConfig = z.infer<typeof envSchema>;
export type FileConfig = z.infer<typeof fileSchema>;

/** The configuration as read at start, deeply frozen. Settings that change later: SettingsSource. */
export interface Config {
  env: Readonly<EnvConfig>;
  /** The settings file as it was at start (the bot reads the live ones from SettingsSource). */
  settings: Readonly<FileConfig>;
  /** Absolute data directory. */
  dataDir: string;
  /** The file the settings came from, if any. */
  settingsFile?: string;
}

/** Freeze an object and everything in it. */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}

/** The values of every secret-looking variable of the process environment (for the log scrubber). */
export function environmentSecrets(env: NodeJS.ProcessEnv = process.env): string[] {
  return secretValues(env);
}

/** The search paths of the operating system (the doctor looks for CUDA libraries and tools on them). */
export function systemSearchPaths(env: NodeJS.ProcessEnv = process.env): { path: string[]; libraryPath: string[] } {
  return { path: (env.PATH ?? '').split(delimiter).filter(Boolean), libraryPath: (env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean) };
}

function describeIssues(issues: z.core.$ZodIssue[], where: (path: PropertyKey[]) => string): string {
  return issues.map((i) => `  - ${where(i.path)}: ${i.message}`).join('\n');
}

/** Variables whose values are never repeated in an error: secrets, and URLs (they can carry a password). */
const SECRET_VARIABLE = /TOKEN|SECRET|PASSWORD|ENCRYPT_KEY|ACCESS_KEY|_URL$/;

/** How an error names a variable: with its value, unless the value may be a secret (then only how long it is). */
export function describeVariable(name: string, value: string | undefined): string {
  if (value === undefined) return name;
  if (SECRET_VARIABLE.test(name)) return `${name} (${value.length} characters, value not shown)`;
  return `${name}=${JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value)}`;
}

export function loadSettingsFile(path: string | undefined): { settings: FileConfig; file?: string } {
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

/** Whether Slack or Lark is configured (then the Playground is off unless PLAYGROUND=true). */
export function chatPlatformConfigured(env: Pick<EnvConfig, 'SLACK_BOT_TOKEN' | 'LARK_APP_ID' | 'LARK_APP_SECRET'>): boolean {
  return Boolean(env.SLACK_BOT_TOKEN || env.LARK_APP_ID || env.LARK_APP_SECRET);
}

/** The Playground runs when PLAYGROUND says so, else only when no chat platform is configured. */
export function playgroundEnabled(env: EnvConfig): boolean {
  return env.PLAYGROUND ?? !chatPlatformConfigured(env);
}

/** Whether a platform must reach this port from outside (Slack's HTTP mode, Lark's webhook mode). */
export function webhookConfigured(env: EnvConfig): boolean {
  return (Boolean(env.SLACK_BOT_TOKEN) && slackMode(env) === 'http') || (Boolean(env.LARK_APP_ID) && env.LARK_MODE === 'webhook');
}

/** The address the port binds: HOST, else every interface when a webhook must be reachable, else loopback only. */
export function listenHost(env: EnvConfig): string {
  return env.HOST ?? (webhookConfigured(env) ? '0.0.0.0' : 'localhost');
}

/** Whether an address (as configured or as bound) reaches only this machine. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === '::ffff:127.0.0.1';
}

/** How the Playground is guarded: PLAYGROUND_ACCESS, else loopback when the port is, else a token. */
export function playgroundAccess(env: EnvConfig): 'token' | 'loopback' {
  return env.PLAYGROUND_ACCESS ?? (env.PLAYGROUND_TOKEN || !isLoopbackHost(listenHost(env)) ? 'token' : 'loopback');
}

/** Slack's transport: SLACK_MODE, else Socket Mode when an app-level token is set, else HTTP. */
export function slackMode(env: Pick<EnvConfig, 'SLACK_MODE' | 'SLACK_APP_TOKEN'>): 'socket' | 'http' {
  return env.SLACK_MODE ?? (env.SLACK_APP_TOKEN ? 'socket' : 'http');
}

/** Slack variables that only make sense together; the message names the missing one and where to find it. */
function slackSetupProblem(env: EnvConfig): string | undefined {
  if (!env.SLACK_BOT_TOKEN) {
    const stray = (['SLACK_APP_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_MODE', 'SLACK_API_URL'] as const).filter((k) => env[k] !== undefined);
    return stray.length ? `${stray.join(', ')} ${stray.length > 1 ? 'are' : 'is'} set but SLACK_BOT_TOKEN is not: set SLACK_BOT_TOKEN (xoxb-…, "OAuth & Permissions" page of the Slack app) or remove the Slack variables.` : undefined;
  }
  if (slackMode(env) === 'socket' && !env.SLACK_APP_TOKEN) {
    return 'SLACK_APP_TOKEN is required in Socket Mode (SLACK_MODE=socket): create an app-level token with the connections:write scope ("Basic Information" page of the Slack app), or use SLACK_MODE=http with SLACK_SIGNING_SECRET.';
  }
  if (slackMode(env) === 'http' && !env.SLACK_SIGNING_SECRET) {
    return 'SLACK_SIGNING_SECRET is required in HTTP mode (SLACK_MODE=http, or no SLACK_APP_TOKEN): copy the Signing Secret from the "Basic Information" page of the Slack app, or set SLACK_APP_TOKEN for Socket Mode.';
  }
  return undefined;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const known = Object.keys(envSchema.shape);
  const picked = Object.fromEntries(known.filter((k) => env[k] !== undefined && env[k] !== '').map((k) => [k, env[k]]));
  const parsed = envSchema.safeParse(picked);
  if (!parsed.success) {
    throw new ZimageError('CONFIG_INVALID', `Invalid environment:\n${describeIssues(parsed.error.issues, (p) => describeVariable(String(p[0]), env[String(p[0])]))}\nFix the variable (or remove it to use the default) and start again.`);
  }
  if (parsed.data.ASSET_STORE === 's3' && !parsed.data.S3_BUCKET) {
    throw new ZimageError('CONFIG_INVALID', 'ASSET_STORE=s3 needs S3_BUCKET (and usually S3_ENDPOINT for MinIO or a NAS gateway, S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY). Set them, or use ASSET_STORE=local.');
  }
  if (Boolean(parsed.data.S3_ACCESS_KEY_ID) !== Boolean(parsed.data.S3_SECRET_ACCESS_KEY)) {
    throw new ZimageError('CONFIG_INVALID', 'S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together: set both, or neither to use the AWS default credential chain.');
  }
  const slackProblem = slackSetupProblem(parsed.data);
  if (slackProblem) throw new ZimageError('CONFIG_INVALID', slackProblem);
  const { settings, file } = loadSettingsFile(parsed.data.CONFIG_FILE);
  const config: Config = {
    env: parsed.data,
    settings,
    dataDir: resolve(parsed.data.DATA_DIR),
    ...(file ? { settingsFile: file } : {}),
  };
  return deepFreeze(config);
}
