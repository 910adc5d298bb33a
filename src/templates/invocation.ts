/**
 * Recognises a template invocation: `poster subject="summer sale" color=#FF6A00 --seed 7`, or
 * `--template poster …` anywhere. Only text made of `key=value` pairs and flags counts, so a free prompt
 * that happens to start with a template's name (`poster of a cat`) stays a prompt.
 */
export interface Invocation {
  template: string;
  vars: Record<string, string>;
  /** The flags (`--seed 7 --count 2`), verbatim, for the generate grammar. */
  flags: string;
}

const PAIR = /^([a-z][a-z0-9_]*)=(?:"([^"]*)"|“([^”]*)”|'([^']*)'|(\S*))/i;
const FLAG = /^--?[a-z][a-z0-9-]*(?:=\S+)?(?:\s+(?!-)(?![a-z][a-z0-9_]*=)\S+)?/i;

/** Split the text after the template name into variables and flags; null when something else is there. */
export function parseArgs(text: string): { vars: Record<string, string>; flags: string } | null {
  const vars: Record<string, string> = {};
  const flags: string[] = [];
  let rest = text.trim();
  while (rest.length > 0) {
    const pair = PAIR.exec(rest);
    if (pair) {
      vars[pair[1]!.toLowerCase()] = pair[2] ?? pair[3] ?? pair[4] ?? pair[5] ?? '';
      rest = rest.slice(pair[0].length).trimStart();
      continue;
    }
    const flag = FLAG.exec(rest);
    if (flag) {
      flags.push(flag[0]);
      rest = rest.slice(flag[0].length).trimStart();
      continue;
    }
    return null;
  }
  return { vars, flags: flags.join(' ') };
}

export function parseInvocation(text: string, isTemplate: (name: string) => boolean): Invocation | null {
  const trimmed = text.trim();
  const explicit = /(?:^|\s)--template(?:=|\s+)([a-z][a-z0-9-]*)/i.exec(trimmed);
  if (explicit) {
    const without = (trimmed.slice(0, explicit.index) + ' ' + trimmed.slice(explicit.index + explicit[0].length)).trim();
    const args = parseArgs(without);
    return args ? { template: explicit[1]!.toLowerCase(), ...args } : null;
  }
  const m = /^(\S+)([\s\S]*)$/.exec(trimmed);
  if (!m || !isTemplate(m[1]!.toLowerCase())) return null;
  const args = parseArgs(m[2]!);
  return args ? { template: m[1]!.toLowerCase(), ...args } : null;
}
