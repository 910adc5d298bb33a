/**
 * Text crossing the Slack boundary. Outbound: user text (prompts, names) is escaped for mrkdwn so it is
 * shown as data and can never become a mention, a link or `<!channel>`. Inbound: Slack's markup in
 * message and command text is turned back into the plain text the person typed.
 */

/** Escape `&`, `<` and `>` (Slack's three control characters in mrkdwn and plain text fields). */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** User text for display: mentions shown as `@name` (they must not ping anyone again), then escaped. */
export function shownText(text: string): string {
  return escapeMrkdwn(text.replace(/<@([A-Z0-9]+)(?:\|([^>]*))?>/g, (_m, id: string, name?: string) => `@${name || id}`));
}

/** Shorten to at most `max` characters (Block Kit limits), ending with `…` when cut. */
export function clip(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/** Quote (`>`) every line of already escaped mrkdwn. */
export function quoteLines(escaped: string): string {
  return escaped.split('\n').map((l) => `>${l}`).join('\n');
}

const MENTION_OF = (userId: string): RegExp => new RegExp(`<@${userId}(?:\\|[^>]*)?>`, 'g');

/**
 * Slack markup → plain text: `<#C1|general>` → `#general`, `<!here>` → `@here`,
 * `<https://x|label>` → `label`, `<https://x>` → `https://x`, and `&lt; &gt; &amp;` decoded.
 * User mentions stay as Slack writes them (`<@U1>`, `<@U1|ann>`); mentions of `dropUser` (the bot) are removed.
 */
export function plainText(text: string, dropUser?: string): string {
  let out = dropUser ? text.replace(MENTION_OF(dropUser), ' ') : text;
  out = out.replace(/<([^<>]*)>/g, (_m, inner: string) => {
    const [target, label] = splitOnce(inner, '|');
    // People stay `<@U…>` / `<@U…|name>`: the core's commands (e.g. quotas) address users by id.
    if (target.startsWith('@')) return `<${inner}>`;
    if (target.startsWith('#')) return `#${label ?? target.slice(1)}`;
    if (target.startsWith('!')) {
      const special = target.slice(1).split('^')[0]!;
      return label ?? (special.startsWith('subteam') ? '@group' : `@${special}`);
    }
    return label ?? target;
  });
  return out.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&').replace(/[ \t]+/g, ' ').trim();
}

function splitOnce(s: string, sep: string): [string, string | undefined] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)];
}

/** The command text of a mention or DM: mentions of the bot removed, a leading `/zimage` word dropped. */
export function commandText(text: string, botUserId: string, command = '/zimage'): string {
  const plain = plainText(text, botUserId);
  const lower = plain.toLowerCase();
  if (lower === command || lower.startsWith(`${command} `) || lower.startsWith(`${command}\n`)) return plain.slice(command.length).trim();
  return plain;
}
