/**
 * Random parts of ids (messages, jobs, requests), cut from a pool of random bytes refilled 4 KiB at a
 * time — one call into the system's random source per few hundred ids instead of one per id, which under a
 * burst of requests was measurable. Not for secrets: those take `randomBytes` of their own.
 */
import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let offset = POOL_BYTES;

function take(n: number): Buffer {
  if (offset + n > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  const out = pool.subarray(offset, offset + n);
  offset += n;
  return out;
}

/** `bytes` random bytes as lower-case hex. */
export function randomHex(bytes: number): string {
  return take(bytes).toString('hex');
}

/** A random unsigned 32-bit integer. */
export function randomUint32(): number {
  return take(4).readUInt32BE(0);
}
