/**
 * Slack references as opaque strings for the core: `slack:<team>:<channel>:<ts>`. A thread reference
 * names the thread's parent message; a message reference names one message (the status message).
 * Both encode exactly what the Web API needs to post into the thread or edit the message.
 */
export const PLATFORM = 'slack';

export interface SlackRef {
  team: string;
  channel: string;
  ts: string;
}

const ID = /^[A-Z0-9]+$/;
const TS = /^\d+\.\d+$/;

export function encodeRef(ref: SlackRef): string {
  if (!ID.test(ref.team) || !ID.test(ref.channel) || !TS.test(ref.ts)) {
    throw new Error(`cannot build a Slack reference from ${JSON.stringify(ref)}`);
  }
  return `${PLATFORM}:${ref.team}:${ref.channel}:${ref.ts}`;
}

export function decodeRef(ref: string): SlackRef {
  const parts = ref.split(':');
  const [platform, team, channel, ts] = parts;
  if (parts.length !== 4 || platform !== PLATFORM || !ID.test(team!) || !ID.test(channel!) || !TS.test(ts!)) {
    throw new Error(`not a Slack reference: ${ref}`);
  }
  return { team: team!, channel: channel!, ts: ts! };
}
