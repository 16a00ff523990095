// The one composition root: opens a peer or a validator on a run from a Platform (signaling,
// mesh and exchange, the trainer or the probes, θ_0). The CLI, the tab and tests are thin adapters.
import { initParams } from '../model/init';
import type { GptConfig } from '../model/config';
import { paramLayout, type ParamLayout } from '../model/layout';
import { ContributionExchange } from '../p2p/exchange';
import { Mesh } from '../p2p/mesh';
import { SignalingClient } from '../p2p/signalingClient';
import type { PeerRole } from '../p2p/signalingProtocol';
import { toHex } from '../protocol/bytes';
import type { Signer } from '../protocol/keys';
import { runModelConfig, windowAt, type RunConfig } from '../protocol/runConfig';
import { randomPages } from '../train/dataPages';
import type { TokenizerSpec } from '../train/tokenizer';
import type { GauntletLimits } from '../validator/gauntlet';
import { LatestModel } from '../validator/latestModel';
import type { OpenedProbes } from '../validator/remoteProbe';
import type { Identity } from '../wallet/authority';
import type { OpenedTrainer, Platform } from './platform';
import { SwarmPeer, type SwarmPeerOptions } from './swarmPeer';
import { ValidatorNode, type ValidatorNodeOptions } from './validatorNode';

/** One participant's connection: signaling (joins signed with its key), the WebRTC mesh, the exchange. */
export interface SwarmLink {
  signaling: SignalingClient;
  mesh: Mesh;
  exchange: ContributionExchange;
  close(): void;
}

export function linkSwarm(platform: Platform, run: RunConfig, o: { signalUrl: string; name: string; role: PeerRole; signer: Signer }): SwarmLink {
  const { log, clock } = platform;
  const signaling = new SignalingClient({ url: o.signalUrl, room: run.runId, peerId: o.name, role: o.role, signer: o.signer, socket: platform.socket, clock });
  signaling.on('state', (s) => log(`signaling ${s}`));
  signaling.on('problem', (p) => log(p));
  // The run's own ICE settings: a relay-only run stays relay-only on a server that sends none.
  const mesh = new Mesh({ signaling, selfId: o.name, wrtc: platform.wrtc, log, runIce: run.ice, clock });
  mesh.on('up', (id) => log(`neighbour ${id} up (${mesh.neighbours().length})`));
  mesh.on('down', (id, why) => log(`neighbour ${id} down: ${why}`));
  const exchange = new ContributionExchange({ mesh, runId: run.runId, log, clock });
  return { signaling, mesh, exchange, close: () => [exchange.close(), mesh.close(), signaling.close()] };
}

/** Releases everything once, whoever asks first (a stop, a failed run, a signal). */
function once(release: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    release();
  };
}

export interface PeerSession {
  name: string;
  peer: SwarmPeer;
  link: SwarmLink;
  trainer: OpenedTrainer;
  /** Present at window 0: it starts from θ_0; later it syncs the current model first. */
  fresh: boolean;
  /** Runs the rounds; a failure releases everything before it rejects. */
  run(): Promise<void>;
  stop(): void;
}

export type PeerHooks = Pick<SwarmPeerOptions, 'onWindow' | 'onSync' | 'onPhase' | 'onResync'>;

export async function openPeer(
  platform: Platform,
  run: RunConfig,
  o: { signalUrl: string; identity: Identity; name?: string } & PeerHooks,
): Promise<PeerSession> {
  const opened = await platform.openTrainer(run);
  let link: SwarmLink | undefined;
  try {
    const config = runModelConfig(run, opened.vocabSize);
    const layout = paramLayout(config);
    const name = o.name ?? `peer-${toHex(o.identity.signer.publicKey).slice(0, 12)}`;
    link = linkSwarm(platform, run, { signalUrl: o.signalUrl, name, role: 'peer', signer: o.identity.signer });
    return peerSession(platform, run, o, { opened, link, config, layout, name });
  } catch (err) {
    // A failed start holds nothing: no worker keeps the GPU, no socket stays open.
    link?.close();
    opened.close();
    throw err;
  }
}

function peerSession(
  platform: Platform,
  run: RunConfig,
  o: { identity: Identity } & PeerHooks,
  parts: { opened: OpenedTrainer; link: SwarmLink; config: GptConfig; layout: ParamLayout; name: string },
): PeerSession {
  const { opened, link, config, layout, name } = parts;
  const fresh = windowAt(run, platform.clock.now()) === 0;
  const peer = new SwarmPeer({
    run,
    trainer: opened.trainer,
    layout,
    exchange: link.exchange,
    mesh: link.mesh,
    traffic: link.mesh.traffic,
    identity: o.identity,
    start: fresh ? { theta: initParams(config, layout, run.seed), window: 0 } : undefined,
    clock: platform.clock,
    log: platform.log,
    onWindow: o.onWindow,
    onSync: o.onSync,
    onPhase: o.onPhase,
    onResync: o.onResync,
  });
  const stop = once(() => [peer.stop(), link.close(), opened.close()]);
  return { name, peer, link, trainer: opened, fresh, stop, run: () => peer.run().catch((err: unknown) => (stop(), Promise.reject(err))) };
}

export interface ValidatorSession {
  name: string;
  node: ValidatorNode;
  link: SwarmLink;
  probes: OpenedProbes;
  /** The validator's current θ as ONNX, for `GET /status/model` and the Dashboard's "Try the model". */
  model: LatestModel;
  run(): Promise<void>;
  stop(): void;
}

export interface ValidatorSetup extends Pick<ValidatorNodeOptions, 'onDecision' | 'onWeights' | 'ledger'> {
  signalUrl: string;
  signer: Signer;
  name?: string;
  /** `off`: contributions are checked, not scored (the validation curve still comes from the CPU reference). */
  scoring: 'gpu' | 'cpu' | 'off';
  limits?: Partial<GauntletLimits>;
  /** Held-out sequences measured after every window (0: no validation curve). */
  validationSequences?: number;
  /** θ and window to go on from (a resumed ledger); default θ_0 at window 0. */
  resume?: { theta: Float32Array; window: number };
}

/** Refuses a key the run does not list: peers would ignore its manifests. */
export function checkValidatorKey(run: RunConfig, signer: Signer): string {
  const publicKey = toHex(signer.publicKey);
  if (!run.validatorKeys.includes(publicKey))
    throw new Error(`this key (${publicKey.slice(0, 12)}…) is not one of the run's validator keys, so peers would ignore its manifests`);
  return publicKey;
}

export async function openValidator(platform: Platform, run: RunConfig, o: ValidatorSetup): Promise<ValidatorSession> {
  const publicKey = checkValidatorKey(run, o.signer);
  const corpus = await platform.corpus(run);
  const config = runModelConfig(run, corpus.tokenizer.vocabSize);
  const layout = paramLayout(config);
  const probes = await platform.openProbes(run, corpus, o.scoring === 'gpu' ? 'gpu' : 'cpu');
  let link: SwarmLink | undefined;
  try {
    const name = o.name ?? `validator-${publicKey.slice(0, 12)}`;
    const validation = await validationSet(run, probes, corpus.val.length, o.validationSequences ?? 0);
    link = linkSwarm(platform, run, { signalUrl: o.signalUrl, name, role: 'validator', signer: o.signer });
    return validatorSession(platform, run, o, {
      probes,
      link,
      validation,
      name,
      layout,
      config,
      corpusLength: corpus.train.length,
      tokenizer: corpus.tokenizer.toJSON(),
    });
  } catch (err) {
    link?.close();
    probes.close();
    throw err;
  }
}

/** Held-out sequences the validator measures after every window (none: no validation curve). */
async function validationSet(run: RunConfig, probes: OpenedProbes, valLength: number, count: number): Promise<ValidatorNodeOptions['validation']> {
  if (!count) return undefined;
  return { probe: probes.validation, offsets: await randomPages('tessera/validation', { count, seqLen: run.seqLen, corpusLength: valLength }) };
}

function validatorSession(
  platform: Platform,
  run: RunConfig,
  o: ValidatorSetup,
  parts: {
    probes: OpenedProbes;
    link: SwarmLink;
    validation: ValidatorNodeOptions['validation'];
    name: string;
    layout: ParamLayout;
    config: GptConfig;
    corpusLength: number;
    tokenizer: TokenizerSpec;
  },
): ValidatorSession {
  const { probes, link, validation, name, layout, config } = parts;
  const node = new ValidatorNode({
    run,
    layout,
    exchange: link.exchange,
    mesh: link.mesh,
    signer: o.signer,
    theta: o.resume?.theta ?? initParams(config, layout, run.seed),
    window: o.resume?.window ?? 0,
    corpusLength: parts.corpusLength,
    probe: o.scoring === 'off' ? undefined : probes.scoring,
    validation,
    ledger: o.ledger,
    limits: o.limits,
    clock: platform.clock,
    log: platform.log,
    onDecision: o.onDecision,
    onWeights: o.onWeights,
  });
  const stop = once(() => [node.stop(), link.close(), probes.close()]);
  const model = new LatestModel(config, layout, parts.tokenizer, () => ({ theta: node.params, window: node.currentWindow }));
  return { name, node, link, probes, model, stop, run: () => node.run().catch((err: unknown) => (stop(), Promise.reject(err))) };
}
