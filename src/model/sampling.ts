// Temperature and top-k sampling of the next token from one row of logits: shared by the GPU
// sampler and the Dashboard's onnxruntime model, so both pick tokens by the same rule.
export interface SamplingOptions {
  /** > 0; lower is more conservative. */
  temperature: number;
  /** Keep the k most likely tokens (0 or ≥ vocab keeps all). */
  topK: number;
}

/**
 * Picks a token from one row of logits. Ties in the top-k cut keep the lower id, so the
 * result depends only on the logits and `random`.
 */
export function sampleToken(logits: ArrayLike<number>, options: SamplingOptions, random: () => number): number {
  if (!(options.temperature > 0) || !Number.isFinite(options.temperature))
    throw new RangeError(`temperature must be a positive number, got ${options.temperature}`);
  const ids = Array.from({ length: logits.length }, (_, i) => i).sort((a, b) => logits[b] - logits[a] || a - b);
  const keep = options.topK > 0 ? ids.slice(0, Math.min(options.topK, ids.length)) : ids;
  const top = logits[keep[0]];
  const weights = keep.map((id) => Math.exp((logits[id] - top) / options.temperature));
  const total = weights.reduce((a, b) => a + b, 0);
  let r = random() * total;
  for (let i = 0; i < keep.length; i++) {
    r -= weights[i];
    if (r < 0) return keep[i];
  }
  return keep[keep.length - 1];
}
