import { randomUint32 } from '../infra/random-ids.js';

/** Short, sortable, human-quotable job ids: `j` + base36 time + 4 random base36 chars. */
export function newJobId(now = Date.now()): string {
  const rand = randomUint32().toString(36).padStart(7, '0').slice(-4);
  return `j${now.toString(36)}${rand}`;
}
