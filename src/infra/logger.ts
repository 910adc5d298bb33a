import { pino, type DestinationStream, type Logger } from 'pino';

/** Paths never written to logs, whatever their value. */
export const REDACTED_PATHS = [
  '*.token', '*.botToken', '*.appToken', '*.signingSecret', '*.appSecret', '*.encryptKey', '*.verificationToken',
  '*.password', '*.secret', '*.authorization', 'headers.authorization', 'headers.cookie', 'env.SLACK_BOT_TOKEN',
  'env.SLACK_APP_TOKEN', 'env.SLACK_SIGNING_SECRET', 'env.LARK_APP_SECRET', 'env.ADMIN_TOKEN', 'env.REDIS_URL', 'env.DATABASE_URL',
  'env.S3_SECRET_ACCESS_KEY', 'env.S3_ACCESS_KEY_ID', 'env.METRICS_TOKEN', 'env.LARK_ENCRYPT_KEY', 'env.LARK_VERIFICATION_TOKEN',
  '*.secretAccessKey', '*.accessKeyId', '*.credentials',
];

const CENSOR = '[redacted]';
/** Variable names whose values are secrets wherever they turn up in a log line. */
const SECRET_NAME = /TOKEN|SECRET|PASSWORD|ENCRYPT_KEY|ACCESS_KEY/i;
/** Token shapes scrubbed even when nobody declared them (Slack tokens, URL passwords, bearer headers). */
const SECRET_SHAPES: ReadonlyArray<[RegExp, string]> = [
  [/xox[abposr]-[A-Za-z0-9-]{8,}/g, CENSOR],
  [/xapp-[A-Za-z0-9-]{8,}/g, CENSOR],
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s"]*:)[^@/\s"]+@/gi, `$1${CENSOR}@`],
  [/(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi, `$1${CENSOR}`],
];

/** The values of secret variables in an environment (config.env or process.env), longest first. */
export function secretValues(env: Readonly<Record<string, unknown>>): string[] {
  const out = new Set<string>();
  for (const [name, value] of Object.entries(env)) {
    if (typeof value !== 'string' || value.length < 6) continue;
    if (SECRET_NAME.test(name)) out.add(value);
    if (name === 'REDIS_URL' || name === 'DATABASE_URL') {
      const m = /^[a-z][a-z0-9+.-]*:\/\/[^:@/]*:([^@/]+)@/.exec(value);
      if (m && m[1]!.length >= 4) out.add(decodeURIComponent(m[1]!));
    }
  }
  return [...out].sort((a, b) => b.length - a.length);
}

/** Replace known secret values and token shapes in one serialized log line. */
export function scrubSecrets(line: string, secrets: readonly string[]): string {
  let s = line;
  for (const v of secrets) if (s.includes(v)) s = s.split(v).join(CENSOR);
  for (const [re, by] of SECRET_SHAPES) s = s.replace(re, by);
  return s;
}

export interface LoggerOptions {
  /** Secret values to scrub from every line, wherever they appear (see secretValues). */
  secrets?: readonly string[];
  /** Where lines go (default stdout). */
  destination?: DestinationStream;
}

/**
 * JSON logs (pino) with two layers of protection: known secret *fields* are redacted by path, and every
 * serialized line is scrubbed of secret *values* (tokens from the configuration, URL passwords, Slack token
 * shapes), so a token inside an error message or a URL never reaches the output either.
 */
export function createLogger(level: string, base: Record<string, unknown> = {}, opts: LoggerOptions = {}): Logger {
  const secrets = opts.secrets ?? [];
  const out = opts.destination ?? pino.destination({ dest: 1, sync: true });
  const scrubbing: DestinationStream = { write: (line: string) => out.write(scrubSecrets(line, secrets)) };
  return pino({ level, base: { pid: process.pid, ...base }, redact: { paths: REDACTED_PATHS, censor: CENSOR } }, scrubbing);
}

export type { Logger };
