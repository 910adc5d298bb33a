/** Entry point of the command grammar: the text after `/zimage` (or the bot mention) → what to do. */
import { parseGenerate } from './generate.js';
import { DEFAULT_SUBCOMMANDS, type SubcommandRegistry } from './registry.js';
import type { CommandRules, ParsedCommand } from './types.js';

const FIRST_WORD = /^(\S+)\s*([\s\S]*)$/;

/**
 * Parse a command. Never throws: any input yields help, a generate request, or an error that quotes the
 * offending fragment of `text`. Empty text is a request for help.
 */
export function parseCommand(text: string, rules: CommandRules, subcommands: SubcommandRegistry = DEFAULT_SUBCOMMANDS): ParsedCommand {
  const trimmed = text.trim();
  if (trimmed === '') return { kind: 'help' };
  const m = FIRST_WORD.exec(trimmed);
  const sub = m ? subcommands.get(m[1]!.toLowerCase()) : undefined;
  if (m && sub) {
    const parsed = sub.parse(m[2] ?? '', rules);
    if (parsed) return parsed;
  }
  return parseGenerate(text, rules);
}
