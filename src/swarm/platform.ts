// What a participant needs from where it runs, as one object: the WebSocket and WebRTC it
// connects with, its GPU work, its corpus, its clock and log. Node, a tab and a simulation differ only here.
import type { WrtcImplementation } from '../p2p/peerLink';
import type { SocketFactory } from '../p2p/signalingClient';
import type { Clock } from '../protocol/clock';
import type { RunConfig } from '../protocol/runConfig';
import type { EncodedCorpus } from '../train/tokenizer';
import type { OpenedProbes } from '../validator/remoteProbe';
import type { WindowTrainer } from './windowTrainer';

/** A peer's GPU half, opened for a run: where it trains (in-process, or a tab's worker). */
export interface OpenedTrainer {
  trainer: WindowTrainer;
  /** The tokenizer's vocabulary, which fixes the model's shape. */
  vocabSize: number;
  /** The adapter, in words. */
  device: string;
  close(): void;
}

export interface Platform {
  /** Opens the signaling WebSocket; omitted: the global WebSocket (a tab). */
  socket?: SocketFactory;
  /** WebRTC; omitted: the browser's own. A simulated network stands in here. */
  wrtc?: WrtcImplementation;
  /** Every timer and timestamp of the mesh, exchange, signaling and rounds. */
  clock: Clock;
  log(line: string): void;
  /** The run's corpus, tokenized and split as every participant splits it. */
  corpus(run: RunConfig): Promise<EncodedCorpus>;
  /** The GPU trainer for the run's model. */
  openTrainer(run: RunConfig): Promise<OpenedTrainer>;
  /** Loss probes off the caller's event loop (a worker thread, a Web Worker); `gpu` falls back to the CPU reference. */
  openProbes(run: RunConfig, corpus: EncodedCorpus, mode: 'gpu' | 'cpu'): Promise<OpenedProbes>;
}
