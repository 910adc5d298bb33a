/** Default grammar limits: Z-Image-Turbo's useful range, and what one chat request may ask for. */
import type { CommandRules } from './types.js';

/** Largest seed: seeds are unsigned 32-bit integers. */
export const MAX_SEED = 4_294_967_295;

export const DEFAULT_COMMAND_RULES: Readonly<CommandRules> = Object.freeze({
  defaults: Object.freeze({ width: 1024, height: 1024, steps: 8 }),
  limits: Object.freeze({
    minSide: 256,
    maxSide: 1024,
    sideMultiple: 16,
    minSteps: 1,
    maxSteps: 16,
    maxCount: 4,
    maxPromptChars: 4000,
  }),
});
