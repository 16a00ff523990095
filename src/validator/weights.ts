// Scores to the u16 weights SubtensorModule.set_weights takes: normalised, then scaled so the
// largest is 65535 (the chain re-normalises; max-upscaling keeps the most precision).
export const U16_MAX = 65_535;

export interface AddressWeight {
  address: string;
  weight: number;
}

/** Addresses with a positive score, sorted by address; empty when nobody earned anything. */
export function toU16Weights(scores: ReadonlyMap<string, number>): AddressWeight[] {
  const positive = [...scores].filter(([, s]) => Number.isFinite(s) && s > 0).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const max = Math.max(0, ...positive.map(([, s]) => s));
  if (max <= 0) return [];
  return positive.map(([address, s]) => ({ address, weight: Math.max(1, Math.round((s / max) * U16_MAX)) }));
}
