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
  if (text.trim() === '') return { kind: 'help' };
  const first = firstWord(text);
  const sub = first ? subcommands.get(first.word) : undefined;
  if (first && sub) {
    const parsed = sub.parse(first.rest, rules);
    if (parsed) return parsed;
  }
  return parseGenerate(text, rules);
}

/** The first word of a command as the grammar reads it to choose a subcommand (lower-case), and the rest. */
export function firstWord(text: string): { word: string; rest: string } | undefined {
  const m = FIRST_WORD.exec(text.trim());
  return m ? { word: m[1]!.toLowerCase(), rest: m[2] ?? '' } : undefined;
}
