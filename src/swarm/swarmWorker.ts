// A tab's swarm worker: owns the GPU device and runs the participant's training windows
// (GpuWindowTrainer with the WGSL top-k) for the page, which holds the network.
import { requestGpuDevice } from '../gpu/device';
import { paramLayout } from '../model/layout';
import { runModelConfig } from '../protocol/runConfig';
import { encodeCorpus } from '../train/tokenizer';
import type { SwarmWorkerCommand, SwarmWorkerEvent } from './swarmWorkerProtocol';
import { FULL_EFFORT, openGpuWindowTrainer, type Effort, type GpuWindowTrainer } from './windowTrainer';

const scope = self as unknown as {
  postMessage(event: SwarmWorkerEvent, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent<SwarmWorkerCommand>) => void) | null;
};
let trainer: GpuWindowTrainer | undefined;
/** Resolves when the worker's device is lost (its 'lost' message goes out from init's listener). */
let deviceLost: Promise<unknown> = new Promise(() => undefined);
/** The page may set the power setting before the device is open: kept and applied at init. */
let effort: Effort = FULL_EFFORT;

async function init(cmd: Extract<SwarmWorkerCommand, { type: 'init' }>): Promise<void> {
  const response = await fetch(cmd.corpusUrl);
  if (!response.ok) throw new Error(`could not load the corpus ${cmd.corpusUrl}: HTTP ${response.status}`);
  const corpus = await encodeCorpus(cmd.run.tokenizer ?? 'char', await response.text());
  const ctx = await requestGpuDevice({ label: 'swarm' });
  deviceLost = ctx.lost;
  // Nothing in this worker destroys its device: any loss ends its training, and the page rejoins.
  ctx.onLost((e) => scope.postMessage({ type: 'lost', message: `${e.reason === 'destroyed' ? 'destroyed' : 'lost'}${e.message ? `: ${e.message}` : ''}` }));
  const config = runModelConfig(cmd.run, corpus.tokenizer.vocabSize);
  const opened = openGpuWindowTrainer(ctx.device, config, cmd.run, corpus.train);
  trainer = opened.trainer;
  trainer.setEffort(effort);
  const { adapter } = ctx.report;
  scope.postMessage({
    type: 'ready',
    adapter: [adapter.vendor, adapter.architecture].filter(Boolean).join(' '),
    floats: paramLayout(config).totalFloats,
    vocabSize: corpus.tokenizer.vocabSize,
  });
}

scope.onmessage = (e) => {
  const cmd = e.data;
  const fail = (err: unknown, id?: number): void => scope.postMessage({ type: 'failed', id, message: err instanceof Error ? err.message : String(err) });
  if (cmd.type === 'init') init(cmd).catch((err: unknown) => fail(err));
  else if (cmd.type === 'reset') trainer?.reset();
  else if (cmd.type === 'abort') trainer?.abort();
  else if (cmd.type === 'effort') {
    effort = cmd.effort;
    trainer?.setEffort(effort);
  } else if (cmd.type === 'window') {
    if (!trainer) return fail(new Error('the swarm worker is not initialised'), cmd.id);
    trainer.trainWindow(cmd.job).then(
      (result) => scope.postMessage({ type: 'result', id: cmd.id, result }, result.payload ? [result.payload.buffer] : []),
      // A window that fails because the device went (a mapAsync refused) can fail before the
      // device's loss is reported: give the loss a moment, so the page hears the cause.
      (err: unknown) =>
        void Promise.race([deviceLost.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 500))]).then(
          (lost) => lost || fail(err, cmd.id),
        ),
    );
  }
};
