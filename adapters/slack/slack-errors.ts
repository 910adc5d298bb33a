/**
 * Reading the Web API's failures. Every failed call becomes a ZimageError with one of the platform-neutral
 * codes (src/chat/platform-errors.ts), so no WebClient error reaches the core:
 *
 * - HTTP 429 (the WebClient rejects it at once: `rejectRateLimitedCalls`) and `ok:false` `ratelimited` →
 *   RATE_LIMITED with Retry-After;
 * - HTTP 5xx/408, network failures and Slack's transient `ok:false` errors (`internal_error`, `fatal_error`,
 *   `service_unavailable`, `request_timeout`, `team_added_to_org`) → PLATFORM_UNAVAILABLE;
 * - the conversation shutting the bot out (`not_in_channel`, `is_archived` …) → CANNOT_POST, with a text
 *   telling the person how to let the bot in;
 * - `edit_window_closed`, `cant_update_message` → MESSAGE_NOT_EDITABLE (a new status message carries on);
 * - anything else → PLATFORM_REJECTED — including `message_not_found`: a status message someone deleted
 *   stays deleted rather than coming back as a fresh post.
 */
import { DEFAULT_RETRY_AFTER_MS, type PlatformErrorCode } from '../../src/chat/platform-errors.js';
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

/** `ok:false` errors by what they mean, beyond CANNOT_POST (everything unlisted is PLATFORM_REJECTED). */
const PLATFORM_CODES: Record<string, PlatformErrorCode> = {
  ratelimited: 'RATE_LIMITED',
  rate_limited: 'RATE_LIMITED',
  internal_error: 'PLATFORM_UNAVAILABLE',
  fatal_error: 'PLATFORM_UNAVAILABLE',
  service_unavailable: 'PLATFORM_UNAVAILABLE',
  request_timeout: 'PLATFORM_UNAVAILABLE',
  team_added_to_org: 'PLATFORM_UNAVAILABLE',
  edit_window_closed: 'MESSAGE_NOT_EDITABLE',
  cant_update_message: 'MESSAGE_NOT_EDITABLE',
};

interface SlackErrorShape {
  code?: unknown;
  data?: { error?: unknown; response_metadata?: { retryAfter?: unknown } };
  retryAfter?: unknown;
  statusCode?: unknown;
  message?: unknown;
}

/** The Slack error code of a Web API platform error (`ok:false`), e.g. `not_in_channel`. */
export function slackErrorCode(err: unknown): string | undefined {
  const e = err as SlackErrorShape | null;
  if (e && e.code === 'slack_webapi_platform_error' && typeof e.data?.error === 'string') return e.data.error;
  return undefined;
}

/** The explanation to show a person when the bot cannot post into a conversation; undefined for other errors. */
export function cannotPostExplanation(err: unknown, locale: string): string | undefined {
  // Raw Web API errors, or ours after slackFailure (e.g. a reply the core sent failed).
  const wrapped = err instanceof ZimageError && typeof err.params.slackError === 'string' ? err.params.slackError : undefined;
  const code = slackErrorCode(err) ?? wrapped;
  const key = code ? CANNOT_POST[code] : undefined;
  return key ? t(locale, key) : undefined;
}

const seconds = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);
const waitMs = (s: number | undefined): number => (s === undefined ? DEFAULT_RETRY_AFTER_MS : Math.max(1, s) * 1000);

/** Turn anything a Web API call threw into a ZimageError with a platform-neutral code; `what` names the call. */
export function slackFailure(err: unknown, what: string): ZimageError {
  if (err instanceof ZimageError) return err;
  const e = (err ?? {}) as SlackErrorShape;
  const cause = { cause: err };
  const slack = slackErrorCode(err);
  if (slack) {
    const code: PlatformErrorCode = CANNOT_POST[slack] ? 'CANNOT_POST' : PLATFORM_CODES[slack] ?? 'PLATFORM_REJECTED';
    const after = code === 'RATE_LIMITED' ? { retryAfterMs: waitMs(seconds(e.data?.response_metadata?.retryAfter)) } : {};
    return new ZimageError(code, `${what}: Slack said ${slack}`, { slackError: slack }, { ...cause, ...after });
  }
  switch (e.code) {
    case 'slack_webapi_rate_limited_error': {
      const s = seconds(e.retryAfter);
      return new ZimageError('RATE_LIMITED', `${what}: rate limited by Slack; retry after ${s ?? 1} s`, {}, { ...cause, retryAfterMs: waitMs(s) });
    }
    case 'slack_webapi_http_error': {
      const status = typeof e.statusCode === 'number' ? e.statusCode : 0;
      const code: PlatformErrorCode = status >= 500 || status === 408 ? 'PLATFORM_UNAVAILABLE' : 'PLATFORM_REJECTED';
      return new ZimageError(code, `${what}: HTTP ${status} from Slack`, { status }, cause);
    }
    case 'slack_webapi_request_error':
      return new ZimageError('PLATFORM_UNAVAILABLE', `${what}: Slack could not be reached (${messageOf(err)})`, {}, cause);
    default:
      break;
  }
  // A 429 whose Retry-After the WebClient could not read comes back as a plain Error.
  if (/^Retry header did not contain a valid timeout/.test(messageOf(err))) {
    return new ZimageError('RATE_LIMITED', `${what}: rate limited by Slack (no usable Retry-After)`, {}, { ...cause, retryAfterMs: DEFAULT_RETRY_AFTER_MS });
  }
  return new ZimageError('PLATFORM_REJECTED', `${what}: ${messageOf(err)}`, {}, cause);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
