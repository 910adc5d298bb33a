/**
 * Links into Lark / Feishu for the gallery's "show in chat": the chat, through the client's AppLink
 * (`applink.feishu.cn` / `applink.larksuite.com`, which opens the desktop or mobile client). Lark has no
 * documented link to one thread; a private deployment (another LARK_DOMAIN) has no AppLink host we know.
 */
import { DOMAINS } from './lark-settings.js';
import { decodeThread } from './refs.js';

const APPLINK: Readonly<Record<string, string>> = {
  [DOMAINS.feishu!]: 'https://applink.feishu.cn',
  [DOMAINS.lark!]: 'https://applink.larksuite.com',
};

export function larkChatLink(domain: string): (place: { workspace: string; channel: string; thread?: string }) => string | null {
  const host = APPLINK[domain];
  return (place) => {
    if (!host) return null;
    let chat = place.channel;
    if (place.thread) {
      try { chat = decodeThread(place.thread).chat; } catch { /* the channel it was made in */ }
    }
    return /^oc_[A-Za-z0-9]+$/.test(chat) ? `${host}/client/chat/open?openChatId=${encodeURIComponent(chat)}` : null;
  };
}
