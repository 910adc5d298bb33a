/**
 * Reading the Web API's errors: which Slack error code a failure carries, whether it means "the bot
 * cannot post in this conversation" (the user needs to do something), and the rate-limit signal.
 */
import { ZimageError } from '../../src/errors.js';
import { t } from '../../src/i18n/index.js';

/** Slack errors that mean the bot cannot post here until someone changes the conversation. */
const CANNOT_POST: Record<string, string> = {
  not_in_channel: 'slack.not_in_channel',
  channel_not_found: 'slack.channel_not_found',
  is_archived: 'slack.channel_archived',
  restricted_action: 'slack.restricted',
  restricted_action_read_only_channel: 'slack.restricted',
  restricted_action_thread_only_channel: 'slack.restricted',
  restricted_action_non_threadable_channel: 'slack.restricted',
  ekm_access_denied: 'slack.restricted',
};

interface SlackErrorShape { code?: unknown; data?: { error?: unknown }; retryAfter?: unknown }

/** The Slack error code of a Web API platform error (`ok:false`), e.g. `not_in_channel`. */
export function slackErrorCode(err: unknown): string | undefined {
  const e = err as SlackErrorShape | null;
  if (e && e.code === 'slack_webapi_platform_error' && typeof e.data?.error === 'string') return e.data.error;
  return undefined;
}

/** Seconds to wait, when the error is the WebClient's rejected rate-limited call (HTTP 429). */
export function rateLimitedSeconds(err: unknown): number | undefined {
  const e = err as SlackErrorShape | null;
  if (e && e.code === 'slack_webapi_rate_limited_error' && typeof e.retryAfter === 'number') return e.retryAfter;
  return undefined;
}

/** The explanation to show a person when the bot cannot post into a conversation; undefined for other errors. */
export function cannotPostExplanation(err: unknown, locale: string): string | undefined {
  // Raw Web API errors, or ours after toZimageError (e.g. a reply the core sent failed).
  const wrapped = err instanceof ZimageError && typeof err.params.slackError === 'string' ? err.params.slackError : undefined;
  const code = slackErrorCode(err) ?? wrapped;
  const key = code ? CANNOT_POST[code] : undefined;
  return key ? t(locale, key) : undefined;
}

/**
 * Turn a failed Web API call into a ZimageError with a stable code (logged and matched by callers): Slack's
 * refusals (`ok:false`) are CANNOT_POST when the conversation shuts the bot out, else PLATFORM_REJECTED.
 * Anything else (network, HTTP errors) is passed on as it is.
 */
export function toZimageError(err: unknown, what: string): ZimageError | unknown {
  const code = slackErrorCode(err);
  if (!code) return err;
  return new ZimageError(CANNOT_POST[code] ? 'CANNOT_POST' : 'PLATFORM_REJECTED', `${what}: Slack said ${code}`, { slackError: code });
}
