/** Shapes of the command grammar: what the parser needs to know, and what it returns. */
import type { GenerateParams } from '../jobs/types.js';

/** Defaults and limits the parser applies (from configuration; see DEFAULT_COMMAND_RULES). */
export interface CommandRules {
  defaults: { width: number; height: number; steps: number };
  limits: {
    minSide: number;
    maxSide: number;
    sideMultiple: number;
    minSteps: number;
    maxSteps: number;
    maxCount: number;
    maxPromptChars: number;
  };
}

/** A generation request as typed: everything but the seed is settled; `seed` undefined means "pick one". */
export type GenerateRequest = Omit<GenerateParams, 'seed'> & { seed: number | undefined };

/** Stable error codes: logs, metrics and tests match on these; the wording is `errors.<code>` in templates/messages. */
export type CommandErrorCode =
  | 'EMPTY_PROMPT'
  | 'UNKNOWN_FLAG'
  | 'MISSING_VALUE'
  | 'DUPLICATE_FLAG'
  | 'INVALID_SIZE'
  | 'SIZE_OUT_OF_RANGE'
  | 'INVALID_SEED'
  | 'INVALID_STEPS'
  | 'INVALID_COUNT'
  | 'PROMPT_TOO_LONG';

export interface CommandError {
  code: CommandErrorCode;
  /** The offending part of the input, verbatim (always a substring of the text that was parsed). */
  fragment: string;
  params: Record<string, string | number>;
}

export type ParsedCommand =
  | { kind: 'help' }
  /** A bot-side subcommand (quota, usage, status …): its handler parses `rest` itself. */
  | { kind: 'subcommand'; name: string; rest: string }
  | { kind: 'generate'; params: GenerateRequest }
  | { kind: 'error'; error: CommandError };
