// The validator's latest verified model as a file anyone can run: ONNX bytes of its current θ,
// exported once per θ (not per request), with the window, θ's hash and the tokenizer to decode.
import type { GptConfig } from '../model/config';
import type { ParamLayout } from '../model/layout';
import { toHex } from '../protocol/bytes';
import { modelHash } from '../protocol/hash';
import { exportOnnx } from '../train/onnxExport';
import type { TokenizerSpec } from '../train/tokenizer';

export interface ModelSnapshot {
  /** The window this θ starts: every manifest before it has been applied. */
  window: number;
  /** θ's content hash (hex), the one peers agree on. */
  hash: string;
  tokenizer: TokenizerSpec;
  /** The longest sequence the model takes (its learned positions). */
  contextLength: number;
  /** ONNX: tokens int64 [batch, seq] → logits [batch, seq, vocab]. */
  onnx: Uint8Array;
}

export class LatestModel {
  private cached?: { theta: Float32Array; window: number; snapshot: ModelSnapshot };

  constructor(
    private readonly config: GptConfig,
    private readonly layout: ParamLayout,
    private readonly tokenizer: TokenizerSpec,
    private readonly read: () => { theta: Float32Array; window: number },
  ) {}

  /** The current θ's snapshot; the validator replaces θ's array when a window closes, so identity tells a new θ. */
  snapshot(): ModelSnapshot {
    const { theta, window } = this.read();
    if (this.cached?.theta === theta && this.cached.window === window) return this.cached.snapshot;
    const snapshot: ModelSnapshot = {
      window,
      hash: toHex(modelHash(theta)),
      tokenizer: this.tokenizer,
      contextLength: this.config.contextLength,
      onnx: exportOnnx(this.config, this.layout, theta, { tokenizer: this.tokenizer, step: window }),
    };
    this.cached = { theta, window, snapshot };
    return snapshot;
  }
}
