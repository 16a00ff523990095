// Headless swarm participants for tests: a peer (mesh, exchange, GPU model and SwarmPeer on a shared
// Dawn device, running at once) and a validator on the harness's mesh; cleanup stops both.
import type { GptConfig } from '../../src/model/config';
import { GpuGpt } from '../../src/gpu/model';
import { ContributionExchange } from '../../src/p2p/exchange';
import type { RunConfig } from '../../src/protocol/runConfig';
import type { Mesh } from '../../src/p2p/mesh';
import { SwarmPeer, type WindowReport } from '../../src/swarm/swarmPeer';
import { ValidatorNode, type ValidatorNodeOptions } from '../../src/swarm/validatorNode';
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

/**
 * A ValidatorNode on the harness's mesh (`room`: the harness's default unless given), not yet
 * running: the test starts or watches its loop. Cleanup stops it and closes its exchange.
 */
export function startHarnessValidator(
  h: Harness,
  url: string,
  o: Omit<ValidatorNodeOptions, 'exchange' | 'mesh'> & { name?: string; room?: string },
): { validator: ValidatorNode; mesh: Mesh } {
  const { name, room, ...options } = o;
  const mesh = h.peer(url, name ?? 'validator', { room });
  const exchange = new ContributionExchange({ mesh, runId: o.run.runId });
  const validator = new ValidatorNode({ ...options, exchange, mesh });
  h.defer(() => [validator.stop(), exchange.close()]);
  return { validator, mesh };
}
