import { pino, type Logger } from 'pino';

/** Paths never written to logs, whatever their value. */
export const REDACTED_PATHS = [
  '*.token', '*.botToken', '*.appToken', '*.signingSecret', '*.appSecret', '*.encryptKey', '*.verificationToken',
  '*.password', '*.secret', '*.authorization', 'headers.authorization', 'headers.cookie', 'env.SLACK_BOT_TOKEN',
  'env.SLACK_APP_TOKEN', 'env.SLACK_SIGNING_SECRET', 'env.LARK_APP_SECRET', 'env.ADMIN_TOKEN', 'env.REDIS_URL',
];

export function createLogger(level: string, base: Record<string, unknown> = {}): Logger {
  return pino({ level, base: { pid: process.pid, ...base }, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } });
}

export type { Logger };
