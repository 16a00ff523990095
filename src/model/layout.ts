// The flat float32 parameter buffer and its named views. Matrices that take weight decay
// come first and vectors after, so AdamW needs one boundary; every tensor starts on a
// 256-byte boundary so it can be bound as its own storage-buffer range.
import type { GptConfig } from './config';

export interface TensorView {
  name: string;
  shape: readonly number[];
  /** Offset in floats into the flat buffer. */
  offset: number;
  /** Element count (product of shape). */
  size: number;
  /** Matrices and embeddings decay; biases and LayerNorm parameters do not. */
  decay: boolean;
}

export interface ParamLayout {
  tensors: readonly TensorView[];
  byName: ReadonlyMap<string, TensorView>;
  /** Floats in the flat buffer, padding included. */
  totalFloats: number;
  /** Floats [0, decayEnd) take weight decay. */
  decayEnd: number;
  /** Real parameters, padding excluded. */
  parameterCount: number;
}

/** 64 floats = 256 bytes, WebGPU's minStorageBufferOffsetAlignment default. */
export const TENSOR_ALIGN_FLOATS = 64;

const align = (n: number): number => Math.ceil(n / TENSOR_ALIGN_FLOATS) * TENSOR_ALIGN_FLOATS;

/** Per layer: [in, out] row-major weights, so y = x·W + b. */
function layerMatrices(l: number, c: number): [string, number[]][] {
  return [
    [`h${l}.attn.qkv.w`, [c, 3 * c]],
    [`h${l}.attn.proj.w`, [c, c]],
    [`h${l}.mlp.fc.w`, [c, 4 * c]],
    [`h${l}.mlp.proj.w`, [4 * c, c]],
  ];
}

function layerVectors(l: number, c: number): [string, number[]][] {
  return [
    [`h${l}.ln1.w`, [c]],
    [`h${l}.ln1.b`, [c]],
    [`h${l}.attn.qkv.b`, [3 * c]],
    [`h${l}.attn.proj.b`, [c]],
    [`h${l}.ln2.w`, [c]],
    [`h${l}.ln2.b`, [c]],
    [`h${l}.mlp.fc.b`, [4 * c]],
    [`h${l}.mlp.proj.b`, [c]],
  ];
}

export function paramLayout(config: GptConfig): ParamLayout {
  const c = config.embedDim;
  const layers = Array.from({ length: config.layers }, (_, l) => l);
  const decayed: [string, number[]][] = [['wte', [config.vocabSize, c]], ['wpe', [config.contextLength, c]], ...layers.flatMap((l) => layerMatrices(l, c))];
  const plain: [string, number[]][] = [...layers.flatMap((l) => layerVectors(l, c)), ['lnf.w', [c]], ['lnf.b', [c]]];
  const tensors: TensorView[] = [];
  let offset = 0;
  let parameterCount = 0;
  const place = (specs: [string, number[]][], decay: boolean): void => {
    for (const [name, shape] of specs) {
      const size = shape.reduce((a, b) => a * b, 1);
      tensors.push({ name, shape, offset, size, decay });
      offset = align(offset + size);
      parameterCount += size;
    }
  };
  place(decayed, true);
  const decayEnd = offset;
  place(plain, false);
  return { tensors, byName: new Map(tensors.map((t) => [t.name, t])), totalFloats: offset, decayEnd, parameterCount };
}

export function tensor(layout: ParamLayout, name: string): TensorView {
  const view = layout.byName.get(name);
  if (!view) throw new Error(`no parameter named ${name}`);
  return view;
}

/** A typed-array view of one named tensor inside the flat buffer (no copy). */
export function viewOf(flat: Float32Array, layout: ParamLayout, name: string): Float32Array {
  const t = tensor(layout, name);
  return flat.subarray(t.offset, t.offset + t.size);
}
