// Deterministic GPT-2 initialisation of the flat parameter buffer from a seed: the same
// bytes on every platform, so peers that start a run from a seed agree on θ₀.
import type { GptConfig } from './config';
import type { ParamLayout } from './layout';
import { seededNormal } from './random';

/**
 * GPT-2 scheme: weights N(0, 0.02), residual projections scaled by 1/√(2·layers),
 * biases 0, LayerNorm gains 1. Padding between tensors stays 0.
 */
export function initParams(config: GptConfig, layout: ParamLayout, seed: number): Float32Array {
  const params = new Float32Array(layout.totalFloats);
  const gauss = seededNormal(seed);
  const residualStd = 0.02 / Math.sqrt(2 * config.layers);
  for (const t of layout.tensors) {
    const block = params.subarray(t.offset, t.offset + t.size);
    if (/\.ln\d?\.w$|^lnf\.w$|ln[12]\.w$/.test(t.name)) block.fill(1);
    else if (t.decay) {
      const std = /(attn|mlp)\.proj\.w$/.test(t.name) ? residualStd : 0.02;
      for (let i = 0; i < block.length; i++) block[i] = gauss() * std;
    }
  }
  return params;
}
