/**
 * Who a manager command is about. Adapters normalise mentions to `<@ID>` / `<@ID|name>` (see BotRequest);
 * a bare `@name` is taken as the user id itself (the Playground's ids are names), and `role:<name>` names a role.
 */
export type Target = { kind: 'user'; id: string; label: string } | { kind: 'role'; role: string; label: string };

export function parseTarget(word: string): Target | null {
  const mention = /^<@([A-Za-z0-9_.-]+)(?:\|([^>]*))?>$/.exec(word);
  if (mention) return { kind: 'user', id: mention[1]!, label: mention[2] ? `@${mention[2]}` : `<@${mention[1]}>` };
  const role = /^role:([a-z][a-z0-9_-]{0,31})$/i.exec(word);
  if (role) return { kind: 'role', role: role[1]!.toLowerCase(), label: `role:${role[1]!.toLowerCase()}` };
  const at = /^@([\p{L}\p{N}][\p{L}\p{N}._-]{0,39})$/u.exec(word.normalize('NFKC'));
  if (at) return { kind: 'user', id: at[1]!.toLowerCase(), label: `@${at[1]}` };
  return null;
}

/** Split on whitespace but keep `<@U1|Jane Doe>` mentions whole. */
export function words(text: string): string[] {
  return text.match(/<@[^>]*>|\S+/g) ?? [];
}
