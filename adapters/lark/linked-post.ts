/**
 * A bot-written text as a rich-text (`post`) message whose links are `a` nodes and everything else literal
 * `text` nodes: the gallery's sign-in link is clickable, a prompt quoted next to it is not markup.
 */
import { splitLinks } from '../../src/chat/text-links.js';

export function linkedPostContent(text: string): Record<string, unknown> {
  const paragraph = (line: string) => splitLinks(line).map((p) => ('url' in p ? { tag: 'a', text: p.url, href: p.url } : { tag: 'text', text: p.text }));
  return { zh_cn: { content: text.split('\n').map(paragraph) } };
}
