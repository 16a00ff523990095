// How much GPU memory a model shape needs, and whether an adapter's limits allow it:
// the error a visitor sees names the limit a preset exceeds and what would fit instead.
import { PRESETS, type GptConfig, type PresetName } from '../model/config';
import { paramLayout } from '../model/layout';
import { headRowsFor, layerActivationFloats } from './forward';

export interface TrainingShape {
  batchSize: number;
  seqLen: number;
  microSteps: number;
  /** Rows per logits chunk (forward.ts headRowsFor); default: all rows while they fit. */
  headRows?: number;
}

export interface MemoryEstimate {
  parameters: number;
  optimizer: number;
  gradients: number;
  activations: number;
  scratch: number;
  total: number;
  /** The largest single buffer: every buffer is bound whole by some kernel. */
  largestBuffer: number;
  /** Parameters + gradients + two Adam moments + the activations backward must keep. */
  minimum: number;
}

/** Bytes of a buffer holding `floats` 4-byte values, as the model allocates it (16-byte granules). */
const bytes = (floats: number): number => Math.max(16, Math.ceil((floats * 4) / 16) * 16);

export function estimateMemory(config: GptConfig, shape: TrainingShape): MemoryEstimate {
  const { vocabSize: V, embedDim: C, heads: H, layers: L } = config;
  const { batchSize: B, seqLen: T, microSteps: K } = shape;
  const rows = B * T;
  const R = headRowsFor(rows, V, shape.headRows);
  const n = paramLayout(config).totalFloats;
  const att = B * H * T * T;
  const lossStride = Math.ceil(rows / 64) * 64;
  const perLayer = Object.values(layerActivationFloats(config, B, T));
  const activationBuffers = [rows * C, ...Array.from({ length: L }, () => perLayer).flat(), rows * C, 2 * rows, R * V, lossStride * K];
  const inputBuffers = Array.from({ length: K }, () => [rows, rows, V + 1, rows]).flat();
  const scratchBuffers = [...inputBuffers, 1, 1, R * V, rows * C, rows * C, 4 * rows * C, 4 * rows * C, att, 1];
  const sum = (list: number[]): number => list.reduce((a, f) => a + bytes(f), 0);
  const activations = sum(activationBuffers);
  const scratch = sum(scratchBuffers);
  const total = 4 * bytes(n) + activations + scratch;
  const largestBuffer = Math.max(...[n, ...activationBuffers, ...scratchBuffers].map(bytes));
  return {
    parameters: bytes(n),
    optimizer: 2 * bytes(n),
    gradients: bytes(n),
    activations,
    scratch,
    total,
    largestBuffer,
    minimum: 4 * bytes(n) + activations,
  };
}

/** A forward-only shape: one microbatch, nothing kept for backward. */
export type EvaluationShape = Omit<TrainingShape, 'microSteps'>;

/**
 * What GpuEvaluator allocates: parameters (none when it reads another model's in place), one
 * layer's activations that every layer reuses, logits, losses, and the token and target ids.
 */
export function estimateEvaluationMemory(config: GptConfig, shape: EvaluationShape, ownParams = true): MemoryEstimate {
  const { vocabSize: V, embedDim: C } = config;
  const rows = shape.batchSize * shape.seqLen;
  const R = headRowsFor(rows, V, shape.headRows);
  const n = paramLayout(config).totalFloats;
  const layer = Object.values(layerActivationFloats(config, shape.batchSize, shape.seqLen));
  const activationBuffers = [rows * C, ...layer, rows * C, 2 * rows, R * V, rows];
  const scratchBuffers = [rows, rows];
  const sum = (list: number[]): number => list.reduce((a, f) => a + bytes(f), 0);
  const parameters = ownParams ? bytes(n) : 0;
  const activations = sum(activationBuffers);
  const scratch = sum(scratchBuffers);
  const total = parameters + activations + scratch;
  const largestBuffer = Math.max(...[ownParams ? n : 0, ...activationBuffers].map(bytes));
  return { parameters, optimizer: 0, gradients: 0, activations, scratch, total, largestBuffer, minimum: total };
}

export interface LimitProblem {
  limit: string;
  needed: number;
  available: number;
}

type LimitsLike = Pick<
  GPUSupportedLimits,
  | 'maxStorageBufferBindingSize'
  | 'maxBufferSize'
  | 'maxComputeWorkgroupsPerDimension'
  | 'maxComputeWorkgroupStorageSize'
  | 'maxStorageBuffersPerShaderStage'
  | 'maxComputeInvocationsPerWorkgroup'
>;

/** Every adapter limit this shape exceeds; empty when it fits. */
export function limitProblems(limits: LimitsLike, config: GptConfig, shape: TrainingShape, est = estimateMemory(config, shape)): LimitProblem[] {
  const rows = shape.batchSize * shape.seqLen;
  const needs: [keyof LimitsLike, number][] = [
    ['maxStorageBufferBindingSize', est.largestBuffer],
    ['maxBufferSize', est.largestBuffer],
    // Row-wise kernels and matmuls launch one workgroup per 64 rows; attention one per 64 (batch, head, position).
    ['maxComputeWorkgroupsPerDimension', Math.ceil(Math.max(rows, shape.batchSize * config.heads * shape.seqLen) / 64)],
    ['maxComputeWorkgroupStorageSize', 8192],
    ['maxStorageBuffersPerShaderStage', 6],
    ['maxComputeInvocationsPerWorkgroup', 256],
  ];
  return needs.filter(([limit, needed]) => needed > limits[limit]).map(([limit, needed]) => ({ limit, needed, available: limits[limit] }));
}

/** Thrown when a model shape exceeds the adapter; says which limit, and what fits. */
export class PresetTooLargeError extends RangeError {
  readonly problems: LimitProblem[];
  constructor(message: string, problems: LimitProblem[]) {
    super(message);
    this.name = 'PresetTooLargeError';
    this.problems = problems;
  }
}

/** Bytes as MiB for messages and logs: `12.5 MiB`. */
export function mib(bytes: number, digits = 1): string {
  return `${(bytes / 2 ** 20).toFixed(digits)} MiB`;
}

/** Throws a RangeError for sizes that are not positive integers or a sequence longer than the context. */
export function checkShape(config: GptConfig, shape: EvaluationShape & { microSteps?: number }): void {
  for (const [name, value] of Object.entries(shape))
    if (value !== undefined && name !== 'headRows' && (!Number.isInteger(value) || value <= 0))
      throw new RangeError(`${name} must be a positive integer, got ${value}`);
  if (shape.seqLen > config.contextLength) throw new RangeError(`seqLen ${shape.seqLen} exceeds the context length ${config.contextLength}`);
}

/** Throws PresetTooLargeError naming the exceeded limits, the largest batch that fits, and a preset that fits. */
export function assertFits(
  limits: LimitsLike,
  config: GptConfig,
  shape: TrainingShape,
  preset?: PresetName,
  plan: (config: GptConfig, shape: TrainingShape) => MemoryEstimate = estimateMemory,
): void {
  const fits = (c: GptConfig, s: TrainingShape): LimitProblem[] => limitProblems(limits, c, s, plan(c, s));
  const problems = fits(config, shape);
  if (problems.length === 0) return;
  const what = problems
    .map(
      (p) =>
        `${p.limit} is ${p.limit.endsWith('Size') ? mib(p.available) : p.available} on this GPU but ${p.limit.endsWith('Size') ? mib(p.needed) : p.needed} is needed`,
    )
    .join('; ');
  let batch = shape.batchSize - 1;
  while (batch > 0 && fits(config, { ...shape, batchSize: batch }).length > 0) batch--;
  const hints: string[] = [];
  if (batch > 0) hints.push(`batchSize ${batch} fits (use microSteps ${Math.ceil(shape.batchSize / batch)} to keep the tokens per step)`);
  const fitting = (Object.keys(PRESETS) as PresetName[]).filter((name) => {
    const p = { ...PRESETS[name], vocabSize: config.vocabSize };
    return fits(p, { ...shape, seqLen: Math.min(shape.seqLen, p.contextLength) }).length === 0;
  });
  if (fitting.length) hints.push(`preset '${fitting[fitting.length - 1]}' fits at this batch size`);
  const label = preset ? `preset '${preset}'` : `this model (d ${config.embedDim}, ${config.layers} layers)`;
  throw new PresetTooLargeError(
    `${label} with batch ${shape.batchSize} × ${shape.seqLen} tokens does not fit this GPU: ${what}. ${hints.join('; ') || 'No preset fits this adapter.'}`,
    problems,
  );
}
