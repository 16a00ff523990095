// React hook for joining the swarm this server hosts: reads /api/run, and on join runs a
// SwarmPeer on this page (signaling, WebRTC mesh, rounds) with training in a swarm worker.
import { useCallback, useEffect, useRef, useState } from 'react';
import { gptConfig } from '../gpu/config';
import { initParams } from '../gpu/init';
import { paramLayout } from '../gpu/layout';
import { ContributionExchange } from '../p2p/exchange';
import { Mesh } from '../p2p/mesh';
import { describeIceError, type IceProblem } from '../p2p/iceProblem';
import { SignalingClient } from '../p2p/signalingClient';
import { toHex } from '../protocol/bytes';
import { parseRunConfig } from '../swarm/parseRunConfig';
import { DEFAULT_CORPUS, trainingDeadline, windowAt, type RunConfig } from '../swarm/runConfig';
import { SwarmPeer, type SwarmPhase, type WindowReport } from '../swarm/swarmPeer';
import { WorkerWindowTrainer, type WorkerLike } from '../swarm/workerWindowTrainer';
import { recordWindow, swarmIdentity } from './useWallet';

/** What /api/run answers: the run, and the signaling URL when it is not this host's /signal. */
export interface PublishedRun {
  run: RunConfig;
  signal?: string;
}

export interface SwarmView {
  status: 'checking' | 'none' | 'available' | 'joining' | 'joined' | 'error';
  run?: RunConfig;
  signal?: string;
  name?: string;
  /** The address contributions carry, and whether a wallet certificate backs it (rewards). */
  address?: string;
  earning?: boolean;
  phase?: SwarmPhase;
  window?: number;
  /** When the current window's training must stop (epoch ms). */
  deadline?: number;
  neighbours: number;
  /** The model download (a newcomer's); `verified` once θ matched the manifest and training began. */
  sync?: { received: number; total: number; window: number; verified: boolean };
  history: WindowReport[];
  error?: string;
  /** A STUN/TURN server failed (the swarm may still connect another way, or not at all if relay-only). */
  iceProblem?: IceProblem;
}

interface Joined {
  stop(): void;
}

/** The run this server hosts, or undefined when it hosts none. */
export async function fetchPublishedRun(): Promise<PublishedRun | undefined> {
  const r = await fetch('/api/run');
  if (!r.ok) return undefined;
  const body = (await r.json()) as { run?: unknown; signal?: unknown };
  // The run decides what this tab trains and which servers it contacts: checked like a run file.
  const signal = typeof body.signal === 'string' && /^wss?:\/\//.test(body.signal) ? body.signal : undefined;
  return { run: parseRunConfig(body.run), signal };
}

export function useSwarm(): SwarmView & { join(): void; leave(): void } {
  const [view, setView] = useState<SwarmView>({ status: 'checking', neighbours: 0, history: [] });
  const joined = useRef<Joined | null>(null);

  useEffect(() => {
    let cancelled = false;
    fetchPublishedRun()
      .then((p) => !cancelled && setView((v) => ({ ...v, status: p?.run ? 'available' : 'none', run: p?.run, signal: p?.signal })))
      .catch((err: unknown) => !cancelled && setView((v) => ({ ...v, status: 'error', error: `this server's run cannot be joined: ${err instanceof Error ? err.message : String(err)}` })));
    return () => {
      cancelled = true;
      joined.current?.stop();
    };
  }, []);

  const join = useCallback(() => {
    const run = view.run;
    if (!run || joined.current) return;
    setView((v) => ({ ...v, status: 'joining', error: undefined }));
    startPeer(run, view.signal ?? `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/signal`, setView).then(
      (j) => (joined.current = j),
      (err: unknown) => setView((v) => ({ ...v, status: 'error', error: err instanceof Error ? err.message : String(err) })),
    );
  }, [view.run, view.signal]);

  const leave = useCallback(() => {
    joined.current?.stop();
    joined.current = null;
    setView((v) => ({ ...v, status: 'available', phase: 'stopped' }));
  }, []);

  return { ...view, join, leave };
}

async function startPeer(run: RunConfig, signalUrl: string, setView: (f: (v: SwarmView) => SwarmView) => void): Promise<Joined> {
  const worker = new Worker(new URL('../swarm/swarmWorker.ts', import.meta.url), { type: 'module' });
  const trainer = new WorkerWindowTrainer(worker as unknown as WorkerLike, { preset: run.preset, batchSize: run.batchSize, seqLen: run.seqLen, corpusUrl: `/data/${run.corpus ?? DEFAULT_CORPUS}` });
  const ready = await trainer.ready;
  const config = gptConfig(run.preset, ready.vocabSize);
  const layout = paramLayout(config);
  // This browser's session key, with the wallet's certificate when one was signed for this run.
  const identity = await swarmIdentity(run);
  const name = `tab-${toHex(identity.signer.publicKey).slice(0, 10)}`;
  const signaling = new SignalingClient({ url: signalUrl, room: run.runId, peerId: name, signer: identity.signer });
  const mesh = new Mesh({ signaling, selfId: name });
  const exchange = new ContributionExchange({ mesh, runId: run.runId });
  const fresh = windowAt(run, Date.now()) === 0;
  const peer = new SwarmPeer({
    run, trainer, layout, exchange, mesh, traffic: mesh.traffic, identity,
    start: fresh ? { theta: initParams(config, layout, run.seed), window: 0 } : undefined,
    onPhase: (phase, window) => setView((v) => ({ ...v, phase, window, deadline: trainingDeadline(run, window), sync: v.sync && phase === 'training' && v.sync.window === window ? { ...v.sync, verified: true } : v.sync })),
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
  const poll = setInterval(() => setView((v) => (v.neighbours === mesh.neighbours().length ? v : { ...v, neighbours: mesh.neighbours().length })), 1000);
  setView((v) => ({ ...v, status: 'joined', name, address: identity.address, earning: identity.certificate.length > 0 }));
  peer.run().catch((err: unknown) => setView((v) => ({ ...v, status: 'error', error: err instanceof Error ? err.message : String(err) })));
  return {
    stop: () => {
      clearInterval(poll);
      peer.stop();
      exchange.close();
      mesh.close();
      signaling.close();
      worker.terminate();
    },
  };
}
