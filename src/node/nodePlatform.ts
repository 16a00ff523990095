// The Platform for headless participants: ws for signaling, node-webrtc, Dawn for training, a
// worker thread for loss probes, the run's corpus from public/data, the system clock, console lines.
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { requestGpuDevice } from '../gpu/device';
import { nodeGpu } from '../gpu/nodeGpu';
import type { WrtcImplementation } from '../p2p/peerLink';
import type { SocketLike } from '../p2p/signalingClient';
import { systemClock, type Clock } from '../protocol/clock';
import { DEFAULT_CORPUS, runModelConfig, type RunConfig } from '../protocol/runConfig';
import type { Platform } from '../swarm/platform';
import { openGpuWindowTrainer } from '../swarm/windowTrainer';
import { encodeCorpus, type EncodedCorpus } from '../train/tokenizer';
import { openProbeThread } from './probeThread';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The run's corpus from public/data (the same file tabs fetch), split as every participant splits it. */
export async function readRunCorpus(run: RunConfig): Promise<EncodedCorpus> {
  const path = join(ROOT, 'public', 'data', run.corpus ?? DEFAULT_CORPUS);
  if (!existsSync(path))
    throw new Error(`the run's corpus ${run.corpus} is not in public/data (${path}): copy it there on every machine that serves or trains`);
  return encodeCorpus(run.tokenizer ?? 'char', readFileSync(path, 'utf8'));
}

/** `clock`: the system clock unless a test or simulation brings its own (training deadlines follow it too). */
export function nodePlatform(name: string, log: (line: string) => void, clock: Clock = systemClock): Platform {
  return {
    socket: (url) => new WebSocket(url) as unknown as SocketLike,
    wrtc: createRequire(import.meta.url)('@roamhq/wrtc') as WrtcImplementation,
    clock,
    log,
    corpus: readRunCorpus,
    async openTrainer(run) {
      const corpus = await readRunCorpus(run);
      const ctx = await requestGpuDevice({ gpu: nodeGpu(), label: name });
      try {
        const config = runModelConfig(run, corpus.tokenizer.vocabSize);
        const opened = openGpuWindowTrainer(ctx.device, config, run, corpus.train, () => clock.now());
        const { adapter } = ctx.report;
        return {
          trainer: opened.trainer,
          vocabSize: corpus.tokenizer.vocabSize,
          device: `${adapter.vendor} ${adapter.architecture}`,
          close: () => [opened.close(), ctx.destroy()],
        };
      } catch (err) {
        ctx.destroy();
        throw err;
      }
    },
    openProbes: (run, corpus, mode) =>
      openProbeThread({
        mode,
        config: runModelConfig(run, corpus.tokenizer.vocabSize),
        seqLen: run.seqLen,
        train: corpus.train,
        val: corpus.val,
        label: name,
        threads: probeThreads(),
      }),
  };
}

/**
 * onnxruntime's wasm threads for a CPU validator: every core but one, which stays with the event
 * loop that answers peers; at least 2 so scoring is multi-threaded even on a 2-core machine.
 */
export function probeThreads(): number {
  return Math.min(8, Math.max(2, availableParallelism() - 1));
}
