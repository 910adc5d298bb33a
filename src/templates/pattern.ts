/**
 * A preset's `pattern` tested against a value a person typed, with a bound on the time it may take. A pattern
 * with nested quantifiers (`^(a+)+$`) backtracks exponentially on a value like "aaaa…a!": tested directly, one
 * command would hold the event loop for minutes (no acknowledgement, no status edit, no health check). The test
 * runs in a VM context with a timeout instead, which interrupts the regular expression; a value that takes that
 * long is refused like one that does not match.
 */
import { createContext, Script } from 'node:vm';

/** Far above any sane pattern on a value of at most 500 characters (microseconds), far below a stall. */
export const PATTERN_TIMEOUT_MS = 50;

const context = createContext({ re: /./u, value: '' });
const test = new Script('re.test(value)');

export function matchesPattern(pattern: string, value: string): boolean {
  context.re = new RegExp(pattern, 'u');
  context.value = value;
  try {
    return test.runInContext(context, { timeout: PATTERN_TIMEOUT_MS }) === true;
  } catch {
    return false;
  }
}
