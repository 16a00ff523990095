// One participant's round loop: train on θ_w until the window's deadline, compress and sign
// the pseudo-gradient, announce it, wait for the validator's manifest, apply it, check the hash.
import { chunkPlan, type ChunkPlan } from '../compress/chunks';
import type { ParamLayout } from '../model/layout';
import type { ContributionExchange } from '../p2p/exchange';
import { equalBytes, toHex } from '../protocol/bytes';
import { reportableLoss, signContribution, type Manifest } from '../protocol/contribution';
import { contentHash, modelHash } from '../protocol/hash';
import type { Identity } from '../wallet/authority';
import type { Mesh } from '../p2p/mesh';
import { applyManifest, ManifestError } from './applyManifest';
import { CheckpointServer, CheckpointSyncError, fetchCheckpoint } from './checkpointSync';
import { ManifestWaiter } from './manifestWaiter';
import { trainingDeadline, type RunConfig } from '../protocol/runConfig';
import { authorityRefusal } from '../wallet/authority';
import type { WindowTrainer } from './windowTrainer';
import { sleep, systemClock, type Clock } from '../protocol/clock';

export interface WindowReport {
  window: number;
  steps: number;
  tokens: number;
  trainLoss?: number;
  contributed: boolean;
  /** Contributions in the manifest, and whether ours was one of them. */
  accepted: number;
  included: boolean;
  /** Hash of θ_{w+1}, hex. */
  hash: string;
  /** Training plus encoding (the trainer's time). */
  computeMs: number;
  /** Idle until the validator's manifest arrived (the window's close and grace, by design). */
  waitMs: number;
  /** Communication on the critical path: signing and announcing, pulling missing payloads, applying. */
  commMs: number;
  bytesUp: number;
  bytesDown: number;
}

export interface SwarmPeerOptions {
  run: RunConfig;
  /** Where training happens: a GpuWindowTrainer here, or a proxy to a tab's worker. */
  trainer: WindowTrainer;
  /** The model's parameter layout (the codec's chunk plan and the checkpoint size derive from it). */
  layout: ParamLayout;
  exchange: ContributionExchange;
  /** Mesh traffic counters, for the per-window report. */
  traffic: { sent: number; received: number };
  /** The session key that signs, the address it speaks for, and the wallet's certificate. */
  identity: Identity;
  mesh: Mesh;
  /**
   * θ at the start of `window` (θ_0 for a peer present from the start). Without it the peer
   * first syncs the newest model from its neighbours (a newcomer).
   */
  start?: { theta: Float32Array; window: number };
  /** Timestamps, deadlines and waits; default: the system clock (the scale simulation passes a virtual one). */
  clock?: Clock;
  log?: (line: string) => void;
  onWindow?: (report: WindowReport) => void;
  onSync?: (received: number, total: number, window: number) => void;
  /** What the peer is doing now, for progress displays. */
  onPhase?: (phase: SwarmPhase, window: number) => void;
  /** The peer fell out of step (a sleep, a frozen tab, a lost manifest) and is fetching the swarm's model again: why, in words. */
  onResync?: (reason: string) => void;
}

export type SwarmPhase = 'syncing' | 'training' | 'uploading' | 'waiting' | 'stopped';

export class SwarmPeer {
  private theta: Float32Array;
  private window: number;
  private synced: boolean;
  /**
   * True from a checkpoint sync until the round after it: a fresh download may end late in its
   * window, and the previous window's payloads are still held for exactly that, so this peer
   * catches up through the manifests instead of fetching the model again (a loop while the
   * validator is quiet and the newest manifest stays the same).
   */
  private freshSync = false;
  private readonly server: CheckpointServer;
  private stopped = false;
  private readonly plan: ChunkPlan;
  private readonly manifests: ManifestWaiter;
  private readonly clock: Clock;
  private readonly now: () => number;

  constructor(private readonly o: SwarmPeerOptions) {
    this.theta = o.start?.theta.slice() ?? new Float32Array(o.layout.totalFloats);
    this.window = o.start?.window ?? 0;
    this.synced = o.start !== undefined;
    this.server = new CheckpointServer(o.exchange, o.mesh);
    if (this.synced) this.server.hold(this.window, this.theta);
    this.plan = chunkPlan(o.layout);
    this.clock = o.clock ?? systemClock;
    this.now = () => this.clock.now();
    this.manifests = new ManifestWaiter(o.exchange, o.run, this.clock);
    // Contributions for the window being closed and the one being trained are wanted.
    o.exchange.acceptWhen((c) => c.window >= this.window && c.window <= this.window + 1, authorityRefusal(o.run));
  }

  get currentWindow(): number {
    return this.window;
  }

  get modelHashHex(): string {
    return toHex(modelHash(this.theta));
  }

  get params(): Float32Array {
    return this.theta;
  }

  get isSynced(): boolean {
    return this.synced;
  }

  stop(): void {
    this.stopped = true;
    this.o.onPhase?.('stopped', this.window);
    this.o.trainer.abort();
    this.manifests.close();
    this.server.close();
  }

  /**
   * Runs windows until stop(); resolves when the loop ends. Work cut short by stop() (a
   * device destroyed under a pending read) ends quietly; any other failure rejects.
   */
  async run(): Promise<void> {
    try {
      while (!this.stopped) {
        if (!this.synced) await this.syncIn();
        else await this.round();
      }
    } catch (err) {
      if (!this.stopped) throw err;
    }
  }

  /** Downloads θ named by the newest manifest; retries (with a newer one) until it verifies. */
  private async syncIn(): Promise<void> {
    this.o.onPhase?.('syncing', this.window);
    const m = await this.manifests.latest();
    if (!m || this.stopped) return;
    const window = m.window + 1;
    this.o.log?.(`syncing θ_${window} from ${this.o.mesh.neighbours().length} neighbours`);
    try {
      this.theta = await fetchCheckpoint({
        exchange: this.o.exchange,
        mesh: this.o.mesh,
        window,
        expectedHash: m.nextHash,
        floats: this.o.layout.totalFloats,
        timeoutMs: this.o.run.windowMs * 2,
        clock: this.clock,
        onProgress: (r, t) => this.o.onSync?.(r, t, window),
      });
      this.window = window;
      this.synced = true;
      this.freshSync = true;
      this.o.trainer.reset();
      this.server.hold(window, this.theta);
      this.o.log?.(`synced θ_${window} (${this.modelHashHex.slice(0, 12)})`);
    } catch (err) {
      if (!(err instanceof CheckpointSyncError)) throw err;
      this.o.log?.(`${err.message}; retrying`);
    }
  }

  /** Drops out of step: the next turn of the loop fetches the newest verified model. */
  private resync(reason: string): void {
    this.o.log?.(`${reason}; resyncing`);
    this.o.onResync?.(reason);
    this.synced = false;
  }

  private async round(): Promise<void> {
    const w = this.window;
    // Training for a window that closed long ago helps nobody, and its manifest and payloads
    // may be gone: after a sleep or a frozen tab, fetch the swarm's model instead.
    const lateMs = this.now() - trainingDeadline(this.o.run, w);
    const justSynced = this.freshSync;
    this.freshSync = false;
    if (lateMs > this.o.run.windowMs && !justSynced) {
      return this.resync(`window ${w}'s training time ended ${Math.round(lateMs / 1000)} s ago`);
    }
    const up0 = this.o.traffic.sent;
    const down0 = this.o.traffic.received;
    const t0 = this.now();
    this.o.onPhase?.('training', w);
    const trained = await this.o.trainer.trainWindow({
      runId: this.o.run.runId,
      peerAddress: this.o.identity.address,
      window: w,
      theta: this.theta,
      deadline: trainingDeadline(this.o.run, w),
      minSteps: this.o.run.minSteps,
      maxSteps: this.o.run.maxSteps,
      unitSteps: this.o.run.unitSteps,
      schedule: this.o.run.innerSchedule,
    });
    const t1 = this.now();
    let contributed = false;
    const bytes = trained.payload;
    let commMs = 0;
    if (bytes && !this.stopped) {
      this.o.onPhase?.('uploading', w);
      const header = signContribution(
        {
          runId: this.o.run.runId,
          window: w,
          baseHash: modelHash(this.theta),
          payloadHash: contentHash(bytes),
          payloadBytes: bytes.length,
          peerAddress: this.o.identity.address,
          steps: trained.steps,
          tokens: trained.tokens,
          trainLoss: reportableLoss(trained.loss),
          certificate: this.o.identity.certificate,
        },
        this.o.identity.signer,
      );
      this.o.exchange.publish(header, bytes);
      contributed = true;
      commMs += this.now() - t1;
      this.o.log?.(`window ${w}: ${trained.steps} steps, loss ${trained.loss?.toFixed(3) ?? '-'}, announced ${bytes.length} B`);
    } else this.o.log?.(`window ${w}: only ${trained.steps} steps before the deadline; skipping this window`);
    this.o.onPhase?.('waiting', w);
    const t2 = this.now();
    const manifest = await this.manifests.nextOrNewer(w);
    if (!manifest || this.stopped) return;
    if (manifest.window > w) {
      // Window w's manifest went by unheard (its validator restarted and caught up without us):
      // the swarm is at θ_{m+1} now, so fetch that verified model rather than wait for ever.
      return this.resync(`window ${w}: its manifest never reached us and the swarm has moved on to window ${manifest.window + 1}`);
    }
    const t3 = this.now();
    if (!(await this.ensurePayloads(manifest))) {
      if (!this.stopped) this.resync(`window ${w}: no neighbour could send the contributions its manifest applies`);
      return;
    }
    this.apply(manifest);
    commMs += this.now() - t3;
    const mine = contributed
      ? this.o.exchange
          .complete(w)
          .some((c) => equalBytes(c.header.publicKey, this.o.identity.signer.publicKey) && manifest.accepted.some((id) => toHex(id) === toHex(c.header.id)))
      : false;
    this.o.onWindow?.({
      window: w,
      steps: trained.steps,
      tokens: trained.tokens,
      trainLoss: trained.loss,
      contributed,
      accepted: manifest.accepted.length,
      included: mine,
      hash: this.modelHashHex,
      computeMs: t1 - t0,
      waitMs: t3 - t2,
      commMs,
      bytesUp: this.o.traffic.sent - up0,
      bytesDown: this.o.traffic.received - down0,
    });
    this.o.exchange.prune(w);
  }

  /**
   * Pulls contributions the manifest names that we never received; false if some are still
   * missing after two windows (their senders left): waiting longer would stall this peer.
   */
  private async ensurePayloads(manifest: Manifest): Promise<boolean> {
    const missing = (): Uint8Array[] => manifest.accepted.filter((id) => !this.o.exchange.get(id));
    const giveUpAt = this.now() + 2 * this.o.run.windowMs;
    for (let attempt = 0; missing().length && !this.stopped; attempt++) {
      if (this.now() > giveUpAt) return false;
      if (attempt % 20 === 0) this.o.exchange.request(missing());
      await sleep(this.clock, 100);
    }
    return !this.stopped;
  }

  private apply(manifest: Manifest): void {
    try {
      this.theta = applyManifest(this.theta, manifest, this.plan, (id) => this.o.exchange.get(id)?.payload);
      this.window = manifest.window + 1;
      this.server.hold(this.window, this.theta);
    } catch (err) {
      if (!(err instanceof ManifestError)) throw err;
      // Out of sync: fetch the verified model from neighbours, then contribute again.
      this.resync(err.message);
    }
  }
}
