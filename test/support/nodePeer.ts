// A headless swarm peer for tests: mesh, exchange, GPU model and SwarmPeer on a shared Dawn
// device, running at once; cleanup stops it and waits for its loop before freeing the model.
import type { GptConfig } from '../../src/model/config';
import { GpuGpt } from '../../src/gpu/model';
import { ContributionExchange } from '../../src/p2p/exchange';
import type { RunConfig } from '../../src/protocol/runConfig';
import { SwarmPeer, type WindowReport } from '../../src/swarm/swarmPeer';
import { GpuWindowTrainer } from '../../src/swarm/windowTrainer';
import type { Identity } from '../../src/wallet/authority';
import type { Harness } from './swarmHarness';

export interface NodePeerOptions {
  device: GPUDevice;
  url: string;
  run: RunConfig;
  config: GptConfig;
  train: Uint16Array;
  name: string;
  identity: Identity;
  start?: { theta: Float32Array; window: number };
  onWindow?: (report: WindowReport) => void;
}

export function startNodePeer(h: Harness, o: NodePeerOptions): SwarmPeer {
  const mesh = h.peer(o.url, o.name, { room: o.run.runId, signer: o.identity.signer }); // a signed join, as `tessera peer` makes
  const exchange = new ContributionExchange({ mesh, runId: o.run.runId });
  const model = new GpuGpt(o.device, { config: o.config, batchSize: o.run.batchSize, seqLen: o.run.seqLen });
  const peer = new SwarmPeer({
    run: o.run,
    trainer: new GpuWindowTrainer(model, o.train),
    layout: model.layout,
    exchange,
    mesh,
    traffic: mesh.traffic,
    identity: o.identity,
    start: o.start,
    onWindow: o.onWindow,
  });
  const running = peer.run();
  // The model is freed only after the training loop has ended (no GPU read in flight).
  h.defer(async () => {
    peer.stop();
    await running.catch(() => undefined);
    exchange.close();
    model.destroy();
  });
  return peer;
}
