// Typed messages between the page and the trainer worker, which owns the GPU device.
// Plain structured-clone data: the worker can run anywhere a Worker runs.
import type { PresetName } from '../model/config';

export type TrainerCommand =
  | { type: 'start'; preset: PresetName; resume: boolean }
  | { type: 'pause' }
  | { type: 'sample'; id: number; prompt: string; count: number; temperature: number; topK: number }
  /** The current weights as an ONNX file or a zipped Hugging Face checkpoint (answered by an 'export' event). */
  | { type: 'export'; format: ExportFormat };

export type ExportFormat = 'onnx' | 'hf';

export type TrainerState = 'starting' | 'idle' | 'loading' | 'training' | 'paused' | 'error';

export interface PresetInfo {
  name: PresetName;
  parameters: number;
  memoryBytes: number;
  batchSize: number;
  seqLen: number;
  /** Why this adapter cannot train the preset, if it cannot. */
  problem?: string;
}

export type TrainerEvent =
  | { type: 'ready'; adapter: string; presets: PresetInfo[] }
  | { type: 'state'; state: TrainerState; preset?: PresetName }
  | { type: 'progress'; step: number; windowDone: number; windowSize: number; tokensPerSecond: number; lr: number }
  | { type: 'loss'; step: number; train?: number; val?: number }
  | { type: 'checkpoint'; step: number; hash: string }
  | { type: 'resumed'; step: number; hash: string }
  | { type: 'sample'; id: number; text: string; done: boolean }
  | { type: 'export'; fileName: string; step: number; bytes: Uint8Array }
  | { type: 'error'; title: string; detail: string; actions: string[] };
