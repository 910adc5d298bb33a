/**
 * Seeded standard-normal noise. Generator (the same family as the WebNN Z-Image demo's utils.js):
 * mulberry32(seed) yields uniform floats in [0, 1); Box–Muller turns each pair (u1, u2) into two normals
 * z0 = r·cos(2πu2), z1 = r·sin(2πu2) with r = sqrt(−2 ln u1) (u1 = 0 replaced by 1e-7), filled in pairs.
 * Deterministic across platforms for a given seed (uint32; other integers are reduced mod 2^32).
 * Seeds are not portable to torch.randn.
 */

/** mulberry32 PRNG: uniform in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const EPSILON = 1e-7;

/** `count` standard-normal float32 samples for `seed`. */
export function gaussianNoise(seed: number, count: number): Float32Array {
  const rand = mulberry32(seed >>> 0);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += 2) {
    const u1 = rand() || EPSILON;
    const u2 = rand();
    const r = Math.sqrt(-2 * Math.log(u1));
    const theta = 2 * Math.PI * u2;
    out[i] = r * Math.cos(theta);
    if (i + 1 < count) out[i + 1] = r * Math.sin(theta);
  }
  return out;
}
