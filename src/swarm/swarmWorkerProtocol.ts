// Messages between a tab's page (network half of a swarm participant) and its swarm worker
// (GPU half). Structured-clone data; model and payload buffers are transferred, not copied.
import type { RunConfig } from '../protocol/runConfig';
import type { Effort, WindowJob, WindowResult } from './windowTrainer';

export type SwarmWorkerCommand =
  | { type: 'init'; run: RunConfig; corpusUrl: string }
  | { type: 'window'; id: number; job: WindowJob }
  | { type: 'reset' }
  | { type: 'abort' }
  | { type: 'effort'; effort: Effort };

export type SwarmWorkerEvent =
  | { type: 'ready'; adapter: string; floats: number; vocabSize: number }
  | { type: 'result'; id: number; result: WindowResult }
  | { type: 'failed'; id?: number; message: string }
  /** The worker's GPU device was lost (a driver reset, a GPU process crash, a sleep): it can train no more. */
  | { type: 'lost'; message: string };
