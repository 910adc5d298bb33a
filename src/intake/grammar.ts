/**
 * One grammar for everything a person can type after `/zimage`: a free prompt with options, a template preset
 * (`poster subject="…"` or `--template poster …`), help, or a subcommand. The command grammar (src/commands)
 * and the preset grammar (src/templates/invocation.ts) each read their own form; this decides which form a
 * text is, so no caller has to.
 */
import { parseCommand, type CommandError, type CommandRules, type GenerateRequest, type SubcommandRegistry } from '../commands/index.js';
import { parseInvocation, type Invocation } from '../templates/invocation.js';

export type Parsed =
  | { kind: 'generate'; request: GenerateRequest }
  | { kind: 'template'; invocation: Invocation }
  /** `--template` was given but the rest is not `key=value` pairs and options. */
  | { kind: 'template_bad_args' }
  | { kind: 'help' }
  | { kind: 'subcommand'; name: string; rest: string }
  | { kind: 'error'; error: CommandError };

export interface GrammarContext {
  rules: CommandRules;
  registry: SubcommandRegistry;
  /** Whether a word names a template preset. */
  isTemplate: (name: string) => boolean;
}

export function parseRequest(text: string, g: GrammarContext): Parsed {
  // A preset's name is a preset unless a subcommand has the same name.
  const invocation = parseInvocation(text, (name) => g.isTemplate(name) && !g.registry.has(name));
  if (invocation) return { kind: 'template', invocation };
  if (/(^|\s)--template\b/i.test(text)) return { kind: 'template_bad_args' };
  const parsed = parseCommand(text, g.rules, g.registry);
  return parsed.kind === 'generate' ? { kind: 'generate', request: parsed.params } : parsed;
}
