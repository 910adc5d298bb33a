/** The `/zimage` command grammar. */
export { parseCommand } from './parse.js';
export { formatCommandError, helpText } from './format.js';
export { DEFAULT_COMMAND_RULES, MAX_SEED } from './rules.js';
export { botSubcommand, buildRegistry, helpCommand, DEFAULT_SUBCOMMANDS, type Subcommand, type SubcommandRegistry } from './registry.js';
export type { CommandError, CommandErrorCode, CommandRules, GenerateRequest, ParsedCommand } from './types.js';
