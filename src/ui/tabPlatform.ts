// The Platform for a browser tab: the page's WebSocket and WebRTC, training in the swarm worker
// (which owns the GPU), loss probes in a Web Worker, the corpus from the app server, the system clock.
import { systemClock } from '../protocol/clock';
import { DEFAULT_CORPUS, runModelConfig, type RunConfig } from '../protocol/runConfig';
import type { Platform } from '../swarm/platform';
import { WorkerWindowTrainer, type WorkerLike } from '../swarm/workerWindowTrainer';
import { encodeCorpus } from '../train/tokenizer';
import { RemoteProbes, type ProbePort } from '../validator/remoteProbe';

const corpusUrl = (run: RunConfig): string => `/data/${run.corpus ?? DEFAULT_CORPUS}`;

export function tabPlatform(label: string, log: (line: string) => void = () => undefined): Platform {
  return {
    clock: systemClock,
    log,
    async corpus(run) {
      const response = await fetch(corpusUrl(run));
      if (!response.ok) throw new Error(`could not load the corpus ${corpusUrl(run)}: HTTP ${response.status}`);
      return encodeCorpus(run.tokenizer ?? 'char', await response.text());
    },
    async openTrainer(run) {
      const worker = new Worker(new URL('../swarm/swarmWorker.ts', import.meta.url), { type: 'module' });
      const trainer = new WorkerWindowTrainer(worker as unknown as WorkerLike, { run, corpusUrl: corpusUrl(run) });
      try {
        const ready = await trainer.ready;
        return { trainer, vocabSize: ready.vocabSize, device: ready.adapter, close: () => worker.terminate() };
      } catch (err) {
        worker.terminate(); // a failed start leaves no worker holding the GPU
        throw err;
      }
    },
    openProbes(run, corpus, mode) {
      const worker = new Worker(new URL('../validator/probeWorker.ts', import.meta.url), { type: 'module' });
      const port: ProbePort = {
        post: (m, transfer) => worker.postMessage(m, transfer ?? []),
        onMessage: (h) => worker.addEventListener('message', (e) => h(e.data)),
        onExit: (h) => worker.addEventListener('error', (e) => h(`the loss probe worker failed: ${e.message}`)),
        close: () => worker.terminate(),
      };
      const config = runModelConfig(run, corpus.tokenizer.vocabSize);
      // onnxruntime uses these threads only where the page is cross-origin isolated; else it runs one.
      const threads = Math.min(8, Math.max(1, navigator.hardwareConcurrency - 1));
      return RemoteProbes.open(port, { mode, config, seqLen: run.seqLen, train: corpus.train, val: corpus.val, label, threads });
    },
  };
}
