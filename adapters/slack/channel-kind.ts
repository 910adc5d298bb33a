/**
 * What a Slack conversation is, from what Slack itself says in the payload — never guessed from a name:
 * - an event's `channel_type`: `channel` (public), `group` (private), `im` (DM), `mpim` (group DM → private);
 * - a slash command's `channel_name`: `directmessage`, `privategroup` (private channels), `mpdm-…` (group DMs),
 *   otherwise the public channel's own name;
 * - the id's prefix: `D…` is a DM, `G…` a private channel or group DM. A `C…` id alone says nothing: private
 *   channels made since 2021 have `C…` ids too.
 * Undefined when nothing tells; the core then treats the channel as private (the safe default).
 */
import type { ChannelKind } from '../../src/jobs/types.js';

const BY_TYPE: Record<string, ChannelKind> = { channel: 'public', group: 'private', im: 'dm', mpim: 'private' };

export function slackChannelKind(o: { channelId?: string; channelName?: string; channelType?: string }): ChannelKind | undefined {
  const byType = o.channelType ? BY_TYPE[o.channelType] : undefined;
  if (byType) return byType;
  const id = o.channelId ?? '';
  if (o.channelName === 'directmessage' || id.startsWith('D')) return 'dm';
  if (o.channelName === 'privategroup' || o.channelName?.startsWith('mpdm-') || id.startsWith('G')) return 'private';
  // A slash command names the channel it came from; only public channels are named by their own name.
  if (o.channelName && id.startsWith('C')) return 'public';
  return undefined;
}
