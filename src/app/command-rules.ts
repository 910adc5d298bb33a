import { DEFAULT_COMMAND_RULES, type CommandRules } from '../commands/index.js';
import type { FileConfig } from '../config.js';

/** The grammar's defaults and limits under the settings file's `generation` section. */
export function commandRules(settings: Pick<FileConfig, 'generation'>): CommandRules {
  const g = settings.generation;
  const [width, height] = g.defaultSize.split('x').map(Number) as [number, number];
  return {
    defaults: { width, height, steps: g.defaultSteps },
    limits: { ...DEFAULT_COMMAND_RULES.limits, maxCount: g.maxCount, maxPromptChars: g.maxPromptChars },
  };
}
