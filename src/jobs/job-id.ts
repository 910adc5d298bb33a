import { randomBytes } from 'node:crypto';

/** Short, sortable, human-quotable job ids: `j` + base36 time + 4 random base36 chars. */
export function newJobId(now = Date.now()): string {
  const rand = randomBytes(4).readUInt32BE(0).toString(36).padStart(7, '0').slice(-4);
  return `j${now.toString(36)}${rand}`;
}
