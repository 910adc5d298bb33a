/**
 * Slack references as opaque strings for the core: `slack:<team>:<channel>:<ts>`. A thread reference
 * names the thread's parent message; a message reference names one message (the status message).
 * Both encode exactly what the Web API needs to post into the thread or edit the message. A private
 * reference, `slack:<team>:<channel>:@<user>`, is a request answered to its asker only (no thread was
 * started for it): everything said to it is ephemeral, in the channel.
 */
export const PLATFORM = 'slack';

export interface SlackRef {
  team: string;
  channel: string;
  /** Empty in a private reference. */
  ts: string;
  /** A private reference's asker. */
  privateTo?: string;
}

const ID = /^[A-Z0-9]+$/;
const TS = /^\d+\.\d+$/;

export function encodeRef(ref: SlackRef): string {
  if (!ID.test(ref.team) || !ID.test(ref.channel) || !TS.test(ref.ts)) {
    throw new Error(`cannot build a Slack reference from ${JSON.stringify(ref)}`);
  }
  return `${PLATFORM}:${ref.team}:${ref.channel}:${ref.ts}`;
}

/** A request answered to `user` only, in `channel` (see the module comment). */
export function encodePrivateRef(ref: { team: string; channel: string; user: string }): string {
  if (!ID.test(ref.team) || !ID.test(ref.channel) || !ID.test(ref.user)) {
    throw new Error(`cannot build a private Slack reference from ${JSON.stringify(ref)}`);
  }
  return `${PLATFORM}:${ref.team}:${ref.channel}:@${ref.user}`;
}

export function decodeRef(ref: string): SlackRef {
  const parts = ref.split(':');
  const [platform, team, channel, ts] = parts;
  if (parts.length !== 4 || platform !== PLATFORM || !ID.test(team!) || !ID.test(channel!)) {
    throw new Error(`not a Slack reference: ${ref}`);
  }
  if (ts!.startsWith('@') && ID.test(ts!.slice(1))) return { team: team!, channel: channel!, ts: '', privateTo: ts!.slice(1) };
  if (!TS.test(ts!)) throw new Error(`not a Slack reference: ${ref}`);
  return { team: team!, channel: channel!, ts: ts! };
}
