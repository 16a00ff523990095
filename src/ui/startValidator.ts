// Starts a validator in this tab: the run's corpus, a WebGPU (or CPU reference) scoring probe,
// signaling, mesh and a ValidatorNode without a ledger (a tab keeps no database).
import { gptConfig } from '../model/config';
import { initParams } from '../model/init';
import { paramLayout } from '../model/layout';
import { ContributionExchange } from '../p2p/exchange';
import { Mesh } from '../p2p/mesh';
import { SignalingClient } from '../p2p/signalingClient';
import { toHex } from '../protocol/bytes';
import { DEFAULT_CORPUS, windowAt, type RunConfig } from '../protocol/runConfig';
import { ValidatorNode } from '../swarm/validatorNode';
import { CharTokenizer, splitCorpus } from '../train/tokenizer';
import { RemoteProbes, type ProbePort } from '../validator/remoteProbe';
import { WalletError } from '../wallet/errors';
import { signerFromSecret } from '../wallet/keySource';
import type { ValidatorRoleView } from './validatorRoleView';

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** A tab shares its GPU with the page: it scores a sample of four per window, on fewer pages. */
const TAB_LIMITS = { maxScored: 4, ownSequences: 32, randomSequences: 64 };

/** The scoring probe in a Web Worker (WebGPU there, or the CPU reference), off the page's thread. */
async function openProbe(run: RunConfig, corpus: { train: Uint16Array; val: Uint16Array }, vocab: number): Promise<RemoteProbes> {
  const worker = new Worker(new URL('../validator/probeWorker.ts', import.meta.url), { type: 'module' });
  const port: ProbePort = {
    post: (m, transfer) => worker.postMessage(m, transfer ?? []),
    onMessage: (h) => worker.addEventListener('message', (e) => h(e.data)),
    onExit: (h) => worker.addEventListener('error', (e) => h(`the loss probe worker failed: ${e.message}`)),
    close: () => worker.terminate(),
  };
  return RemoteProbes.open(port, {
    mode: 'gpu',
    config: gptConfig(run.preset, vocab),
    seqLen: run.seqLen,
    train: corpus.train,
    val: corpus.val,
    label: 'tab-validator',
  });
}

export async function startValidator(
  run: RunConfig,
  signalUrl: string,
  secret: string,
  setView: (f: (v: ValidatorRoleView) => ValidatorRoleView) => void,
): Promise<() => void> {
  let signer;
  try {
    signer = signerFromSecret(secret);
  } catch (err) {
    throw new Error(err instanceof WalletError ? `the key file is not usable: ${err.message}` : message(err));
  }
  const publicKey = toHex(signer.publicKey);
  if (!run.validatorKeys.includes(publicKey))
    throw new Error(`this key (${publicKey.slice(0, 12)}…) is not one of the run's validator keys, so peers would ignore its manifests`);
  // A validator starting after window 0 would need the current model first; a tab starts only at the beginning.
  if (windowAt(run, Date.now()) > 0)
    throw new Error(
      'the run has already started: start a tab validator before its first window closes (or run `tessera validator`, which resumes from its ledger)',
    );
  const text = await (await fetch(`/data/${run.corpus ?? DEFAULT_CORPUS}`)).text();
  const corpus = splitCorpus(CharTokenizer.fromText(text), text);
  const config = gptConfig(run.preset, corpus.tokenizer.vocabSize);
  const layout = paramLayout(config);
  const scoring = await openProbe(run, corpus, corpus.tokenizer.vocabSize);
  const name = `validator-${publicKey.slice(0, 10)}`;
  const signaling = new SignalingClient({ url: signalUrl, room: run.runId, peerId: name, role: 'validator', signer });
  // The run's own ICE settings: a relay-only run stays relay-only on a server that sends none.
  const mesh = new Mesh({ signaling, selfId: name, runIce: run.ice });
  mesh.on('relay-unavailable', (reason) => setView((v) => ({ ...v, error: `this validator cannot connect to anyone: ${reason}` })));
  const exchange = new ContributionExchange({ mesh, runId: run.runId });
  const node = new ValidatorNode({
    run,
    layout,
    exchange,
    mesh,
    signer,
    theta: initParams(config, layout, run.seed),
    window: 0,
    corpusLength: corpus.train.length,
    probe: scoring.scoring,
    limits: TAB_LIMITS,
    onDecision: (d) =>
      setView((v) => ({
        ...v,
        windows: [{ window: d.window, hash: toHex(d.manifest.nextHash), accepted: d.accepted.length, verdicts: d.verdicts }, ...v.windows].slice(0, 50),
      })),
  });
  setView((v) => ({ ...v, status: 'running', publicKey, scoring: `${scoring.label}, in a worker` }));
  node.run().catch((err: unknown) => setView((v) => ({ ...v, status: 'error', error: message(err) })));
  return () => {
    node.stop();
    exchange.close();
    mesh.close();
    signaling.close();
    scoring.close();
  };
}
