// The page side of a tab's swarm worker: a WindowTrainer whose windows run in the worker.
import type { PresetName } from '../gpu/config';
import type { SwarmWorkerCommand, SwarmWorkerEvent } from './swarmWorkerProtocol';
import type { WindowJob, WindowResult, WindowTrainer } from './windowTrainer';

export interface WorkerLike {
  postMessage(message: SwarmWorkerCommand, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent<SwarmWorkerEvent>) => void) | null;
}

export class WorkerWindowTrainer implements WindowTrainer {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: WindowResult) => void; reject: (e: Error) => void }>();
  readonly ready: Promise<Extract<SwarmWorkerEvent, { type: 'ready' }>>;

  constructor(
    private readonly worker: WorkerLike,
    options: { preset: PresetName; batchSize: number; seqLen: number; corpusUrl: string },
  ) {
    this.ready = new Promise((resolve, reject) => {
      worker.onmessage = (e) => {
        const ev = e.data;
        if (ev.type === 'ready') resolve(ev);
        else if (ev.type === 'result') this.settle(ev.id, (p) => p.resolve(ev.result));
        else if (ev.id === undefined) reject(new Error(`swarm worker: ${ev.message}`));
        else this.settle(ev.id, (p) => p.reject(new Error(`swarm worker: ${ev.message}`)));
      };
    });
    worker.postMessage({ type: 'init', ...options });
  }

  trainWindow(job: WindowJob): Promise<WindowResult> {
    const id = this.nextId++;
    // θ is copied: the page keeps its own replica while the worker trains on the copy.
    const theta = job.theta.slice();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'window', id, job: { ...job, theta } }, [theta.buffer]);
    });
  }

  reset(): void {
    this.worker.postMessage({ type: 'reset' });
  }

  abort(): void {
    this.worker.postMessage({ type: 'abort' });
  }

  private settle(id: number, f: (p: { resolve: (r: WindowResult) => void; reject: (e: Error) => void }) => void): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    f(p);
  }
}
