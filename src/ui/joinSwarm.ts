// Joins the swarm from this tab: a SwarmPeer on the page (signaling, WebRTC mesh, rounds) with
// training in a swarm worker; loaded only when the visitor presses Join.
import { gptConfig } from '../model/config';
import { initParams } from '../model/init';
import { paramLayout } from '../model/layout';
import { ContributionExchange } from '../p2p/exchange';
import { Mesh } from '../p2p/mesh';
import { describeIceError } from '../p2p/iceProblem';
import { SignalingClient } from '../p2p/signalingClient';
import { toHex } from '../protocol/bytes';
import { DEFAULT_CORPUS, windowAt, type RunConfig } from '../protocol/runConfig';
import { SwarmPeer } from '../swarm/swarmPeer';
import { WorkerWindowTrainer, type WorkerLike } from '../swarm/workerWindowTrainer';
import { phaseSpan } from './phaseSpan';
import type { Joined, SwarmView } from './swarmView';
import { recordWindow, swarmIdentity } from './useWallet';

export async function startPeer(run: RunConfig, signalUrl: string, setView: (f: (v: SwarmView) => SwarmView) => void): Promise<Joined> {
  const worker = new Worker(new URL('../swarm/swarmWorker.ts', import.meta.url), { type: 'module' });
  const trainer = new WorkerWindowTrainer(worker as unknown as WorkerLike, {
    preset: run.preset,
    batchSize: run.batchSize,
    seqLen: run.seqLen,
    corpusUrl: `/data/${run.corpus ?? DEFAULT_CORPUS}`,
  });
  let identity: Awaited<ReturnType<typeof swarmIdentity>>;
  let ready: Awaited<typeof trainer.ready>;
  try {
    ready = await trainer.ready;
    // This browser's session key, with the wallet's certificate when one was signed for this run.
    identity = await swarmIdentity(run);
  } catch (err) {
    worker.terminate(); // a failed start leaves no worker holding the GPU
    throw err;
  }
  const config = gptConfig(run.preset, ready.vocabSize);
  const layout = paramLayout(config);
  const name = `tab-${toHex(identity.signer.publicKey).slice(0, 10)}`;
  const signaling = new SignalingClient({ url: signalUrl, room: run.runId, peerId: name, signer: identity.signer });
  // The run's own ICE settings: a relay-only run stays relay-only on a server that sends none.
  const mesh = new Mesh({ signaling, selfId: name, runIce: run.ice });
  const exchange = new ContributionExchange({ mesh, runId: run.runId });
  const fresh = windowAt(run, Date.now()) === 0;
  const peer = new SwarmPeer({
    run,
    trainer,
    layout,
    exchange,
    mesh,
    traffic: mesh.traffic,
    identity,
    start: fresh ? { theta: initParams(config, layout, run.seed), window: 0 } : undefined,
    onPhase: (phase, window) =>
      setView((v) => ({
        ...v,
        phase,
        window,
        phaseSpan: phaseSpan(run, phase, window),
        sync: v.sync && phase === 'training' && v.sync.window === window ? { ...v.sync, verified: true } : v.sync,
      })),
    onSync: (received, total, window) => setView((v) => ({ ...v, sync: { received, total, window, verified: false } })),
    onWindow: (r) => {
      if (r.contributed) recordWindow(identity.address, r.included);
      setView((v) => ({ ...v, sync: undefined, history: [r, ...v.history].slice(0, 50) }));
    },
  });
  mesh.on('ice-error', (_peer, e) => {
    const problem = describeIceError(e, signaling.ice, Date.now());
    setView((v) => (v.iceProblem?.message === problem.message ? v : { ...v, iceProblem: problem }));
  });
  // No TURN credential for a relay-only run: the tab dials nobody, and says why where ICE failures show.
  mesh.on('relay-unavailable', (reason) =>
    setView((v) => ({ ...v, iceProblem: { kind: 'unreachable', message: `This tab cannot connect to anyone: ${reason}` } })),
  );
  const poll = setInterval(() => setView((v) => (v.neighbours === mesh.neighbours().length ? v : { ...v, neighbours: mesh.neighbours().length })), 1000);
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    clearInterval(poll);
    peer.stop();
    exchange.close();
    mesh.close();
    signaling.close();
    worker.terminate();
  };
  setView((v) => ({ ...v, status: 'joined', name, address: identity.address, earning: identity.certificate.length > 0 }));
  const running = peer.run();
  // Whoever holds the result reports the error; a failed peer releases everything at once.
  running.catch(stop);
  return { stop, running };
}
