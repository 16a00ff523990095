// The same GPT as src/gpu/model.ts written in TensorFlow.js ops (a benchmark peer): one
// tf.variable per tensor of the flat layout, autodiff gradients, tf.train.adam updates.
import * as tf from '@tensorflow/tfjs';
import type { GptConfig } from '../src/model/config';
import { viewOf, type ParamLayout } from '../src/model/layout';

const LN_EPS = 1e-5;
const GELU_SCALE = Math.sqrt(2 / Math.PI);

/**
 * A fresh tfjs WebGPU backend (new device, empty buffer pool, so its byte count is this
 * run's alone). Throws unless tfjs really runs on WebGPU: a silent CPU fallback would make
 * every number meaningless.
 */
export async function freshTfjsWebgpu(): Promise<void> {
  const factory = tf.findBackendFactory('webgpu');
  if (!factory) throw new Error('tfjs has no webgpu backend registered (import @tensorflow/tfjs-backend-webgpu after navigator.gpu exists)');
  tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', factory);
  const ok = await tf.setBackend('webgpu');
  if (!ok || tf.getBackend() !== 'webgpu') throw new Error(`tfjs backend is '${tf.getBackend()}', not 'webgpu': refusing to benchmark`);
}

/** Bytes the tfjs WebGPU backend holds in its buffer pool, which only grows: its high-water mark. */
export function tfjsGpuBytes(): number {
  return (tf.memory() as tf.MemoryInfo & { numBytesAllocatedInGPU: number }).numBytesAllocatedInGPU;
}

export interface AdamHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
}

export class TfjsGpt {
  private readonly vars = new Map<string, tf.Variable>();
  private readonly optimizer: tf.Optimizer;
  private readonly mask: tf.Tensor2D;
  private tokens: tf.Tensor1D | null = null;
  private targets: tf.Tensor2D | null = null;

  constructor(
    private readonly config: GptConfig,
    layout: ParamLayout,
    flat: Float32Array,
    private readonly batchSize: number,
    private readonly seqLen: number,
    hyper: AdamHyper,
  ) {
    for (const t of layout.tensors)
      this.vars.set(
        t.name,
        tf.tidy(() => tf.variable(tf.tensor(viewOf(flat, layout, t.name), [...t.shape]))),
      );
    this.optimizer = tf.train.adam(hyper.lr, hyper.beta1, hyper.beta2, hyper.eps);
    // Additive causal mask: 0 on and below the diagonal, -1e9 above.
    const T = seqLen;
    this.mask = tf.tensor2d(
      Float32Array.from({ length: T * T }, (_, i) => (i % T > Math.floor(i / T) ? -1e9 : 0)),
      [T, T],
    );
  }

  setBatch(tokens: ArrayLike<number>, targets: ArrayLike<number>): void {
    this.tokens?.dispose();
    this.targets?.dispose();
    this.tokens = tf.tensor1d(Int32Array.from(tokens), 'int32');
    this.targets = tf.tidy(() => tf.oneHot(tf.tensor1d(Int32Array.from(targets), 'int32'), this.config.vocabSize).toFloat() as tf.Tensor2D);
  }

  /** Mean cross-entropy of the current batch (no update). */
  async loss(): Promise<number> {
    const l = tf.tidy(() => this.forward());
    const value = (await l.data())[0];
    l.dispose();
    return value;
  }

  /** One Adam step; with `readLoss`, waits for the GPU and resolves to the step's loss. */
  async trainStep(readLoss: boolean): Promise<number | null> {
    const cost = this.optimizer.minimize(() => this.forward(), readLoss);
    if (!cost) return null;
    const value = (await cost.data())[0];
    cost.dispose();
    return value;
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    this.optimizer.dispose();
    this.mask.dispose();
    this.tokens?.dispose();
    this.targets?.dispose();
  }

  private v(name: string): tf.Variable {
    const t = this.vars.get(name);
    if (!t) throw new Error(`no variable ${name}`);
    return t;
  }

  private layerNorm(x: tf.Tensor2D, name: string): tf.Tensor2D {
    const { mean, variance } = tf.moments(x, -1, true);
    return x
      .sub(mean)
      .mul(tf.rsqrt(variance.add(LN_EPS)))
      .mul(this.v(`${name}.w`))
      .add(this.v(`${name}.b`));
  }

  private linear(x: tf.Tensor2D, name: string): tf.Tensor2D {
    // Bias fused into the matmul, as Tessera fuses it.
    return tf.fused.matMul({ a: x, b: this.v(`${name}.w`) as tf.Tensor2D, bias: this.v(`${name}.b`) }) as tf.Tensor2D;
  }

  private attention(qkv: tf.Tensor2D): tf.Tensor2D {
    const { embedDim: C, heads: H } = this.config;
    const [B, T, hs] = [this.batchSize, this.seqLen, C / H];
    // [B·T, 3C] → [3, B, H, T, hs]
    const split = qkv.reshape([B, T, 3, H, hs]).transpose([2, 0, 3, 1, 4]);
    const [q, k, v] = tf.unstack(split) as tf.Tensor4D[];
    const scores = tf
      .matMul(q, k, false, true)
      .mul(1 / Math.sqrt(hs))
      .add(this.mask);
    const y = tf.matMul(tf.softmax(scores), v); // [B, H, T, hs]
    return y.transpose([0, 2, 1, 3]).reshape([B * T, C]);
  }

  private gelu(x: tf.Tensor2D): tf.Tensor2D {
    const inner = x.add(x.pow(3).mul(0.044715)).mul(GELU_SCALE);
    return x.mul(0.5).mul(tf.tanh(inner).add(1));
  }

  private forward(): tf.Scalar {
    if (!this.tokens || !this.targets) throw new Error('setBatch first');
    const { embedDim: C, layers: L } = this.config;
    const [B, T] = [this.batchSize, this.seqLen];
    const pos = this.v('wpe').slice([0, 0], [T, C]);
    let x = tf
      .gather(this.v('wte'), this.tokens)
      .reshape([B, T, C])
      .add(pos)
      .reshape([B * T, C]) as tf.Tensor2D;
    for (let l = 0; l < L; l++) {
      const h = `h${l}`;
      x = x.add(this.linear(this.attention(this.linear(this.layerNorm(x, `${h}.ln1`), `${h}.attn.qkv`)), `${h}.attn.proj`));
      x = x.add(this.linear(this.gelu(this.linear(this.layerNorm(x, `${h}.ln2`), `${h}.mlp.fc`)), `${h}.mlp.proj`));
    }
    const logits = tf.matMul(this.layerNorm(x, 'lnf'), this.v('wte'), false, true); // tied head
    return tf.losses.softmaxCrossEntropy(this.targets, logits);
  }
}
