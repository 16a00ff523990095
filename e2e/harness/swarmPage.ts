// A tab as a swarm participant, driven by the e2e test: the page holds signaling, the WebRTC
// mesh and the round loop; the swarm worker trains on the tab's WebGPU device.
import { gptConfig } from '../../src/model/config';
import { initParams } from '../../src/model/init';
import { paramLayout } from '../../src/model/layout';
import { ContributionExchange } from '../../src/p2p/exchange';
import { Mesh } from '../../src/p2p/mesh';
import { SignalingClient } from '../../src/p2p/signalingClient';
import { fromHex } from '../../src/protocol/bytes';
import { ed25519Signer } from '../../src/protocol/keys';
import type { RunConfig } from '../../src/protocol/runConfig';
import { SwarmPeer, type WindowReport } from '../../src/swarm/swarmPeer';
import { WorkerWindowTrainer, type WorkerLike } from '../../src/swarm/workerWindowTrainer';
import { sessionIdentity } from '../../src/wallet/authority';

interface SwarmHarness {
  reports: WindowReport[];
  logs: string[];
  error?: string;
  synced: boolean;
}

const state: SwarmHarness = { reports: [], logs: [], synced: false };
(window as unknown as { __swarm: SwarmHarness }).__swarm = state;

async function main(): Promise<void> {
  const q = new URLSearchParams(location.search);
  const run = JSON.parse(atob(q.get('run') ?? '')) as RunConfig;
  const name = q.get('name') ?? 'tab';
  const signer = ed25519Signer(fromHex(q.get('seed') ?? ''));
  const log = (l: string): void => void state.logs.push(l);
  const worker = new Worker(new URL('../../src/swarm/swarmWorker.ts', import.meta.url), { type: 'module' });
  const trainer = new WorkerWindowTrainer(worker as unknown as WorkerLike, {
    preset: run.preset,
    batchSize: run.batchSize,
    seqLen: run.seqLen,
    corpusUrl: '/data/tinyshakespeare.txt',
  });
  const ready = await trainer.ready;
  const config = gptConfig(run.preset, ready.vocabSize);
  const layout = paramLayout(config);
  // Signed, as the Volunteer page joins: the server refuses unsigned joins.
  const signaling = new SignalingClient({ url: q.get('signal') ?? '', room: run.runId, peerId: name, signer });
  const mesh = new Mesh({ signaling, selfId: name, log });
  const exchange = new ContributionExchange({ mesh, runId: run.runId, log });
  const fresh = Date.now() < run.startTime + run.windowMs;
  const peer = new SwarmPeer({
    run,
    trainer,
    layout,
    exchange,
    mesh,
    traffic: mesh.traffic,
    identity: sessionIdentity(signer),
    log,
    start: fresh ? { theta: initParams(config, layout, run.seed), window: 0 } : undefined,
    onWindow: (r) => void state.reports.push(r),
  });
  log(`ready on ${ready.adapter}`);
  const syncWatch = setInterval(() => (state.synced = peer.isSynced), 200);
  await peer.run();
  clearInterval(syncWatch);
}

main().catch((err: unknown) => (state.error = err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err)));
