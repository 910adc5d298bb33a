/**
 * Links into Slack for the gallery's "show in chat": the thread in the web client when the thread is
 * known, else the channel through Slack's documented `app_redirect` (which opens the desktop or web client).
 */
import { decodeRef } from './refs.js';

const CONVERSATION = /^[CGD][A-Z0-9]{2,}$/;

export function slackChatLink(place: { workspace: string; channel: string; thread?: string }): string | null {
  if (place.thread) {
    try {
      const ref = decodeRef(place.thread);
      return `https://app.slack.com/client/${ref.team}/${ref.channel}/thread/${ref.channel}-${ref.ts}`;
    } catch { /* not one of ours: the channel below */ }
  }
  if (!CONVERSATION.test(place.channel) || !/^[A-Z0-9]+$/.test(place.workspace)) return null;
  return `https://slack.com/app_redirect?team=${place.workspace}&channel=${place.channel}`;
}
