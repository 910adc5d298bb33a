/**
 * Subcommands are chosen by the first word of the text (`help`, later `quota`, `templates`, `status` …).
 * Each one decides whether the rest of the text is meant for it; when none claims the text, it is a
 * prompt for the generate grammar. Adding a subcommand means adding an entry here, never touching generate.
 */
import type { CommandRules, ParsedCommand } from './types.js';

export interface Subcommand {
  /** Lower-case first words that select this subcommand. */
  readonly names: readonly string[];
  /**
   * Parse the text after the first word. Return undefined when this is not a use of the subcommand
   * (e.g. `help me draw a cat` is a prompt), and the whole text is then parsed as a generate command.
   */
  parse(rest: string, rules: CommandRules): ParsedCommand | undefined;
}

export const helpCommand: Subcommand = {
  names: ['help', '--help', '-h', '?', '？', '帮助'],
  parse: (rest) => (rest.trim() === '' ? { kind: 'help' } : undefined),
};

/** A subcommand handled by the bot (src/bot/subcommands): the grammar only recognises its first word. */
export function botSubcommand(name: string, aliases: readonly string[] = []): Subcommand {
  return { names: [name, ...aliases], parse: (rest) => ({ kind: 'subcommand', name, rest: rest.trim() }) };
}

export type SubcommandRegistry = ReadonlyMap<string, Subcommand>;

export function buildRegistry(subcommands: readonly Subcommand[]): SubcommandRegistry {
  const map = new Map<string, Subcommand>();
  for (const sub of subcommands) for (const name of sub.names) map.set(name.toLowerCase(), sub);
  return map;
}

export const DEFAULT_SUBCOMMANDS: SubcommandRegistry = buildRegistry([helpCommand]);
