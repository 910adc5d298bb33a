/** User-facing wording for command errors and the help text, in the user's language. */
import { t } from '../i18n/index.js';
import { MAX_SEED } from './rules.js';
import type { CommandError, CommandRules } from './types.js';

/** The message for a parse error: what is wrong, quoting the fragment, what is allowed, and where to find help. */
export function formatCommandError(error: CommandError, locale: string): string {
  const params: Record<string, string | number> = { ...error.params, fragment: error.fragment };
  if (error.code === 'UNKNOWN_FLAG') {
    const suggestion = error.params.suggestion;
    params.hint = suggestion !== undefined
      ? t(locale, 'commands.did_you_mean', { suggestion })
      : t(locale, 'commands.known_flags', { flags: error.params.known ?? '' });
  }
  return `${t(locale, `errors.${error.code}`, params)}\n${t(locale, 'commands.see_help')}`;
}

/** How to use the command, with the limits and defaults actually in force, and examples. */
export function helpText(locale: string, rules: CommandRules): string {
  const { defaults, limits } = rules;
  return t(locale, 'commands.help', {
    width: defaults.width,
    height: defaults.height,
    steps: defaults.steps,
    minSide: limits.minSide,
    maxSide: limits.maxSide,
    multiple: limits.sideMultiple,
    minSteps: limits.minSteps,
    maxSteps: limits.maxSteps,
    maxCount: limits.maxCount,
    maxPromptChars: limits.maxPromptChars,
    maxSeed: MAX_SEED,
  }).trimEnd();
}
