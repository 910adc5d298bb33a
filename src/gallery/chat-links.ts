/**
 * "Show in chat": a link to where an image was posted, when the platform has one. Each platform's adapter
 * knows its own references (adapters/slack/links.ts, adapters/lark/links.ts); the bot composes them per
 * platform (src/app). The thread comes from the job's status record (kept 30 days after the job); older
 * images link to their channel.
 */
export interface ChatPlace {
  workspace: string;
  channel: string;
  /** The job's thread reference, when still known. */
  thread?: string;
}

export type ChatLink = (place: ChatPlace) => string | null;
