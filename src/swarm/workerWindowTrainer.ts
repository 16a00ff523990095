// The page side of a tab's swarm worker: a WindowTrainer whose windows run in the worker.
// A worker that dies (an uncaught error, a script that failed to load) fails every window.
import type { RunConfig } from '../protocol/runConfig';
import type { SwarmWorkerCommand, SwarmWorkerEvent } from './swarmWorkerProtocol';
import type { Effort, WindowJob, WindowResult, WindowTrainer } from './windowTrainer';

/** The part of a Worker this uses; `onerror` receives an ErrorEvent-like value in browsers. */
export interface WorkerLike {
  postMessage(message: SwarmWorkerCommand, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent<SwarmWorkerEvent>) => void) | null;
  onerror: ((e: { message?: string }) => void) | null;
}

type Pending = { resolve: (r: WindowResult) => void; reject: (e: Error) => void };

export class WorkerWindowTrainer implements WindowTrainer {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Set once the worker has died: every later window fails with it at once. */
  private dead: Error | undefined;
  private readonly deathListeners: ((err: Error) => void)[] = [];
  readonly ready: Promise<Extract<SwarmWorkerEvent, { type: 'ready' }>>;

  constructor(
    private readonly worker: WorkerLike,
    options: { run: RunConfig; corpusUrl: string },
  ) {
    this.ready = new Promise((resolve, reject) => {
      worker.onmessage = (e) => {
        const ev = e.data;
        if (ev.type === 'ready') resolve(ev);
        else if (ev.type === 'result') this.settle(ev.id, (p) => p.resolve(ev.result));
        else if (ev.type === 'lost') reject(this.die(`the GPU device was ${ev.message}`));
        else if (ev.id === undefined) reject(new Error(`swarm worker: ${ev.message}`));
        else this.settle(ev.id, (p) => p.reject(new Error(`swarm worker: ${ev.message}`)));
      };
      // Without this a crashed worker would leave its window pending forever: the peer would
      // neither train nor say why.
      worker.onerror = (e) => reject(this.die(`swarm worker stopped: ${e.message || 'an uncaught error in the worker'}`));
    });
    this.ready.catch(() => undefined); // the caller awaits ready; a death after it is reported per window
    worker.postMessage({ type: 'init', ...options });
  }

  trainWindow(job: WindowJob): Promise<WindowResult> {
    if (this.dead) return Promise.reject(this.dead);
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

  setEffort(effort: Effort): void {
    this.worker.postMessage({ type: 'effort', effort: { share: effort.share, paused: effort.paused } });
  }

  onDeath(listener: (err: Error) => void): void {
    if (this.dead) queueMicrotask(() => listener(this.dead as Error));
    else this.deathListeners.push(listener);
  }

  /** The worker can train no more: every pending and later window fails with `why`, and whoever listens hears it now. */
  private die(why: string): Error {
    if (this.dead) return this.dead;
    const dead = (this.dead = new Error(why));
    for (const id of [...this.pending.keys()]) this.settle(id, (p) => p.reject(dead));
    for (const listener of this.deathListeners.splice(0)) listener(dead);
    return dead;
  }

  private settle(id: number, f: (p: Pending) => void): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    f(p);
  }
}
