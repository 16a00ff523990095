// The page side of the swarm worker: a window in flight and every later one fail with the
// reason when the worker's GPU device is lost or the worker dies, so the tab can rejoin.
import { describe, expect, it } from 'vitest';
import type { SwarmWorkerCommand, SwarmWorkerEvent } from '../../src/swarm/swarmWorkerProtocol';
import type { WindowJob } from '../../src/swarm/windowTrainer';
import { WorkerWindowTrainer, type WorkerLike } from '../../src/swarm/workerWindowTrainer';
import { tinyRun } from '../support/tinyRun';

/** The worker's message port, driven by the test: what it was sent, and what it "says". */
class ScriptedWorker implements WorkerLike {
  sent: SwarmWorkerCommand[] = [];
  onmessage: ((e: MessageEvent<SwarmWorkerEvent>) => void) | null = null;
  onerror: ((e: { message?: string }) => void) | null = null;
  postMessage(message: SwarmWorkerCommand): void {
    this.sent.push(message);
  }
  say(event: SwarmWorkerEvent): void {
    this.onmessage?.({ data: event } as MessageEvent<SwarmWorkerEvent>);
  }
}

const RUN = tinyRun({ runId: 'r', seed: 1, startTime: 0, windowMs: 8000, graceMs: 2000, uploadMarginMs: 1000, validatorKeys: [] });

const job = (window: number): WindowJob => ({
  runId: 'r',
  peerAddress: 'a',
  window,
  theta: new Float32Array(4),
  deadline: Date.now() + 10_000,
  minSteps: 1,
  maxSteps: 2,
  schedule: { maxLr: 1e-3, minLr: 1e-4, warmupSteps: 1, decaySteps: 10 },
});

function opened(): { worker: ScriptedWorker; trainer: WorkerWindowTrainer } {
  const worker = new ScriptedWorker();
  const trainer = new WorkerWindowTrainer(worker, { run: RUN, corpusUrl: '/data/x.txt' });
  worker.say({ type: 'ready', adapter: 'test', floats: 4, vocabSize: 65 });
  return { worker, trainer };
}

describe('WorkerWindowTrainer', () => {
  it('a lost GPU device fails the window in flight and every later one with the reason', async () => {
    const { worker, trainer } = opened();
    await trainer.ready;
    const inFlight = trainer.trainWindow(job(3));
    worker.say({ type: 'lost', message: 'lost: GPU process exited' });
    await expect(inFlight).rejects.toThrow('the GPU device was lost: GPU process exited');
    await expect(trainer.trainWindow(job(4))).rejects.toThrow('the GPU device was lost: GPU process exited');
    // The later window never reached the dead worker.
    expect(worker.sent.filter((c) => c.type === 'window')).toHaveLength(1);
  });

  it('tells whoever listens when the device is lost between windows, once, and a late listener too', async () => {
    const { worker, trainer } = opened();
    const heard: string[] = [];
    trainer.onDeath((e) => heard.push(e.message));
    worker.say({ type: 'lost', message: 'lost: driver reset' });
    worker.say({ type: 'lost', message: 'lost: again' });
    expect(heard).toEqual(['the GPU device was lost: driver reset']);
    trainer.onDeath((e) => heard.push(`late: ${e.message}`));
    await Promise.resolve();
    expect(heard).toEqual(['the GPU device was lost: driver reset', 'late: the GPU device was lost: driver reset']);
  });

  it('a worker that dies fails its window; results before that still arrive', async () => {
    const { worker, trainer } = opened();
    const first = trainer.trainWindow(job(1));
    const sent = worker.sent.find((c) => c.type === 'window');
    expect(sent?.type === 'window' && sent.job.window).toBe(1);
    worker.say({ type: 'result', id: sent?.type === 'window' ? sent.id : -1, result: { steps: 2, tokens: 64, loss: 4 } });
    expect((await first).steps).toBe(2);
    const second = trainer.trainWindow(job(2));
    worker.onerror?.({ message: 'Uncaught Error: boom' });
    await expect(second).rejects.toThrow('swarm worker stopped: Uncaught Error: boom');
  });
});
