// Seeded pseudo-random numbers built from 32-bit integer operations only, so every platform
// and JavaScript engine produces the same stream (initial weights, sampled batches, tests).

/** mulberry32 → uniform floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normals by Box–Muller over `seededRandom`. */
export function seededNormal(seed: number): () => number {
  const next = seededRandom(seed);
  return () => {
    const u = 1 - next(); // (0, 1]: log(0) never happens
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
  };
}
