// Seeded test data (floats, bytes): the same inputs on every run and every runtime.
import { seededRandom } from '../../src/model/random';

export { seededRandom };

/** Uniform floats in [-1, 1). */
export function randomFloats(n: number, seed: number): Float32Array {
  const next = seededRandom(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = next() * 2 - 1;
  return out;
}

export function randomBytes(n: number, seed: number): Uint8Array {
  const next = seededRandom(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(next() * 256);
  return out;
}
