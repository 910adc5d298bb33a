/**
 * The links in a bot-written text (a sign-in link, gallery links): the adapters render these pieces as
 * clickable links and everything else as literal text, so a private answer can carry a URL without the
 * rest of the text ever becoming markup.
 */

export type TextPiece = { text: string } | { url: string };

/** http(s) URLs up to white space; closing punctuation at the end belongs to the sentence, not the URL. */
const URL_RE = /https?:\/\/[^\s<>"]+/g;
const TRAILING = /[.,;:!?'")\]}»」』。，、；：！？]+$/u;

export function splitLinks(text: string): TextPiece[] {
  const pieces: TextPiece[] = [];
  let at = 0;
  for (const m of text.matchAll(URL_RE)) {
    const url = m[0].replace(TRAILING, '');
    if (url.length <= 'https://'.length) continue;
    if (m.index > at) pieces.push({ text: text.slice(at, m.index) });
    pieces.push({ url });
    at = m.index + url.length;
  }
  if (at < text.length) pieces.push({ text: text.slice(at) });
  return pieces;
}
