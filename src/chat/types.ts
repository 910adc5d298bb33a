/**
 * The ChatAdapter port: the only seam between the core and a chat platform (Slack, Lark, Playground).
 * Adapters do transport only — verify, ack quickly, normalise inbound events to BotRequest, and render
 * the platform-neutral views below in their own idiom. Nothing here imports a chat SDK.
 */
import type { Conversation, ImageMetadata } from '../jobs/types.js';

/** One inbound user message addressed to the bot, platform-neutral and JSON-safe. */
export interface BotRequest extends Conversation {
  /**
   * Command text without the command word or bot mention, e.g. `a cat --seed 7`. Mentions of people are
   * normalised by the adapter to `<@USERID>` (or `<@USERID|name>`), so commands like
   * `quota set <@U123> 50/day` work the same on every platform.
   */
  text: string;
  /** Platform event id: the idempotency key (a retried delivery carries the same id). */
  eventId: string;
  /** Preferred language of replies, when the platform knows it. */
  locale?: string;
}

/** The core's handler for inbound requests. Adapters ack the platform before awaiting slow work. */
export type RequestHandler = (request: BotRequest) => Promise<void>;

/** Buttons under a status message (cancel) or a result (regenerate, variations). */
export type ActionKind = 'cancel' | 'regenerate' | 'variations';

/** A button click, platform-neutral: who clicked what, for which job, in which thread. */
export interface BotAction extends Conversation {
  kind: ActionKind;
  jobId: string;
  /** Idempotency key of the click (platform action/event id). */
  eventId: string;
  locale?: string;
}

/** What to tell the person who clicked (ephemeral message, toast); `ok` false means nothing changed. */
export interface ActionResult {
  ok: boolean;
  message: string;
}

export type ActionHandler = (action: BotAction) => Promise<ActionResult>;

/** Everything an adapter hands inbound traffic to. */
export interface InboundHandlers {
  onRequest: RequestHandler;
  onAction: ActionHandler;
  /**
   * Whether a request with this text is answered to its asker only (`/zimage history`, `find`, `gallery`): an
   * adapter that starts a visible thread for a request (Slack's "… asked:" message) starts none for these, and
   * answers them privately where it is asked.
   */
  answersPrivately?(text: string): boolean;
}

/** The state of one job as shown in its single status message. */
export type StatusView =
  | { phase: 'queued'; jobId: string; position: number; total: number; etaMs: number | null }
  | { phase: 'generating'; jobId: string; image: number; count: number; step: number; steps: number }
  | { phase: 'finishing'; jobId: string }
  | { phase: 'done'; jobId: string; images: number; totalMs: number }
  | { phase: 'failed'; jobId: string; reason: string }
  | { phase: 'cancelled'; jobId: string };

/** A finished image to post into a thread, with the metadata to show under it. */
export interface DeliveredImage {
  /** The file's bytes, read from the asset store when a platform needs them (the Playground links to it instead). */
  read(): Promise<Buffer>;
  filename: string;
  metadata: ImageMetadata;
  /** Public URL of the stored image when the asset store has one (the Playground serves its own). */
  assetKey: string;
}

/** An image file to post that is not a job result (ChatAdapter.postFile). */
export interface PostedFile {
  bytes: Buffer;
  /** e.g. `usage-2026-11-24.png`; its extension gives the type (png, jpg, webp). */
  filename: string;
  title: string;
}

/** How often the status tracker may edit messages on this platform. */
export interface EditPacing {
  /** Minimum time between two edits of the same message. */
  minIntervalMs: number;
  /** Budget of edits per minute per workspace (Slack chat.update Tier 3 ≈ 50). */
  perWorkspacePerMinute: number;
}

/** Options of a status post. */
export interface PostStatusOptions {
  /**
   * The status message this one replaces because it can no longer be edited (MESSAGE_NOT_EDITABLE): the new
   * post is then a different message even where the platform dedupes posts of the same job.
   */
  replaces?: string;
}

/**
 * What every outbound method throws when the platform call fails: a ZimageError with one of the five
 * platform-neutral codes (src/chat/platform-errors.ts), never the platform SDK's own error —
 *
 * - `RATE_LIMITED`: throttled; `retryAfterMs` says how long the platform asked to wait.
 * - `PLATFORM_UNAVAILABLE`: the platform answered 5xx or could not be reached; try again later.
 * - `CANNOT_POST`: the bot may not post in this conversation (not a member, archived, read-only …).
 * - `MESSAGE_NOT_EDITABLE`: `updateStatus` only: the message can no longer be edited (too old, edited too often).
 * - `PLATFORM_REJECTED`: any other refusal (bad request, content refused, missing permission, message deleted).
 *
 * Adapters do not retry: a failure comes back at once, and the core's layer for that call retries it (status
 * edits: the status tracker; images: the `deliver` queue; replies and new threads: one retry, src/chat/reply-retry.ts).
 * An adapter without a remote platform (the Playground) throws only infrastructure errors (Redis unreachable).
 */
export interface ChatAdapter {
  readonly platform: string;
  readonly pacing: EditPacing;
  /**
   * Start receiving. Status messages of queued/generating jobs carry a Cancel button, results carry
   * Regenerate and Variations buttons (where the platform has buttons); clicks go to `onAction`.
   */
  start(inbound: InboundHandlers): Promise<void>;
  stop(): Promise<void>;
  /**
   * Post a plain reply (help, errors) into a thread; returns the message reference.
   * Throws RATE_LIMITED, PLATFORM_UNAVAILABLE, CANNOT_POST, PLATFORM_REJECTED.
   */
  reply(thread: string, text: string): Promise<string>;
  /**
   * Post the job's status message into a thread; returns the message reference used for later edits.
   * Throws RATE_LIMITED, PLATFORM_UNAVAILABLE, CANNOT_POST, PLATFORM_REJECTED.
   */
  postStatus(thread: string, view: StatusView, locale: string, options?: PostStatusOptions): Promise<string>;
  /**
   * Replace the status message's content. Throws RATE_LIMITED, PLATFORM_UNAVAILABLE, CANNOT_POST,
   * MESSAGE_NOT_EDITABLE (post a new status message and edit that one from then on), PLATFORM_REJECTED.
   */
  updateStatus(message: string, view: StatusView, locale: string): Promise<void>;
  /**
   * Post one image with its metadata into a thread. A retried call does not post the same image twice.
   * Throws RATE_LIMITED, PLATFORM_UNAVAILABLE, CANNOT_POST, PLATFORM_REJECTED (an adapter may instead explain
   * a refused image in the thread and return).
   */
  postImage(thread: string, image: DeliveredImage, locale: string): Promise<void>;
  /**
   * Start a new thread in a channel with a short top-level message (scheduled runs post there);
   * returns the thread reference. Adapters that cannot post unprompted leave it out. `channel` may also be
   * a person's user id: the thread then starts in their direct messages with the bot (Slack, Lark; the
   * Playground has one channel and starts it there).
   * Throws RATE_LIMITED, PLATFORM_UNAVAILABLE, CANNOT_POST, PLATFORM_REJECTED.
   */
  startThread?(workspace: string, channel: string, text: string): Promise<string>;
  /**
   * Optional: a message only `to.user` can read (a sign-in link, someone's image history). Slack: an
   * ephemeral message in the conversation's thread; Lark: a direct message from the bot (in the thread when
   * the conversation is that direct chat already); Playground: a reply in the thread shown only to the
   * browser session that holds the name. Links in the text are clickable; nothing else in it is markup.
   * Resolves to where it went: `here` (in the conversation) or `direct` (a direct message elsewhere — the
   * caller may say so in the thread).
   * Throws RATE_LIMITED, PLATFORM_UNAVAILABLE, CANNOT_POST, PLATFORM_REJECTED.
   */
  replyPrivately?(to: Conversation, text: string): Promise<'here' | 'direct'>;
  /**
   * Optional: post an image file that is not a job result (e.g. the usage chart, PNG) into a thread, with
   * a title where the platform shows one. No buttons, no metadata.
   * Throws RATE_LIMITED, PLATFORM_UNAVAILABLE, CANNOT_POST, PLATFORM_REJECTED.
   */
  postFile?(thread: string, file: PostedFile, locale: string): Promise<void>;
  /**
   * Optional: the directory groups a user belongs to (Slack user group ids, Lark department ids), so a
   * role can be bound to a group in the settings file. Adapters without a directory leave it out.
   * Throws RATE_LIMITED, PLATFORM_UNAVAILABLE, PLATFORM_REJECTED (e.g. a missing directory permission).
   */
  userGroups?(workspace: string, user: string): Promise<string[]>;
}
