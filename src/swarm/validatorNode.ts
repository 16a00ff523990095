// A validator on the network: holds θ_w like any replica, closes each window at its deadline,
// runs the gauntlet (checks, scores), publishes the signed manifest, follows whichever manifest
// the swarm follows (so a standby stays in sync for failover), and keeps the ledger.
import { chunkPlan, type ChunkPlan } from '../compress/chunks';
import type { ParamLayout } from '../model/layout';
import type { ContributionExchange } from '../p2p/exchange';
import type { Mesh } from '../p2p/mesh';
import { equalBytes, toHex } from '../protocol/bytes';
import type { Manifest } from '../protocol/contribution';
import { modelHash } from '../protocol/hash';
import type { Signer } from '../protocol/keys';
import { runGauntlet, type GauntletLimits, type GauntletResult } from '../validator/gauntlet';
import type { Ledger } from '../validator/ledger';
import { PROVEN_POW_EMA, type Standing } from '../validator/ratings';
import type { LossProbe } from '../validator/scoring';
import type { AddressWeight } from '../validator/weights';
import { standingsAfter } from '../validator/windowStandings';
import { applyManifest, ManifestError } from './applyManifest';
import { CheckpointServer, CheckpointSyncError, fetchCheckpoint } from './checkpointSync';
import { ManifestWaiter } from './manifestWaiter';
import { manifestDue, windowEnd, windowStart, type RunConfig } from '../protocol/runConfig';
import { authorityRefusal } from '../wallet/authority';
import { sleep, systemClock, type Clock, type TimerHandle } from '../protocol/clock';

export interface ValidatorNodeOptions {
  run: RunConfig;
  layout: ParamLayout;
  exchange: ContributionExchange;
  mesh: Mesh;
  signer: Signer;
  /** θ at the start of `window` (θ_0, or what the ledger resumed). */
  theta: Float32Array;
  window: number;
  /** Training corpus length in tokens (data pages are offsets into it). */
  corpusLength: number;
  /** Scores contributions; without one the validator only checks them. */
  probe?: LossProbe;
  /**
   * Measures θ_{w+1} after each window on fixed held-out sequences (a probe over the
   * validation split): the run's validation-loss curve on the dashboard.
   */
  validation?: { probe: LossProbe; offsets: Uint32Array };
  ledger?: Ledger;
  limits?: Partial<GauntletLimits>;
  /** Timestamps, deadlines and waits; default: the system clock (the scale simulation passes a virtual one). */
  clock?: Clock;
  log?: (line: string) => void;
  onDecision?: (decision: GauntletResult & { window: number }) => void;
  /** The weights after each window (a dry run logs them; a chain submitter sends them). */
  onWeights?: (window: number, weights: AddressWeight[]) => void | Promise<void>;
}

export class ValidatorNode {
  private theta: Float32Array;
  private window: number;
  private stopped = false;
  private timer?: TimerHandle;
  private wake?: () => void;
  private readonly server: CheckpointServer;
  private readonly plan: ChunkPlan;
  private readonly manifests: ManifestWaiter;
  /** First arrival time of each complete contribution, by id, with its window. */
  private readonly arrivedAt = new Map<string, { window: number; at: number }>();
  private readonly unsubscribe: () => void;
  private standings: Map<string, Standing>;
  private readonly earners = new Set<string>();
  private readonly clock: Clock;
  private readonly now: () => number;

  constructor(private readonly o: ValidatorNodeOptions) {
    this.theta = o.theta.slice();
    this.window = o.window;
    this.clock = o.clock ?? systemClock;
    this.now = () => this.clock.now();
    this.plan = chunkPlan(o.layout);
    o.exchange.acceptWhen((c) => c.window === this.window, authorityRefusal(o.run));
    this.server = new CheckpointServer(o.exchange, o.mesh);
    this.server.hold(this.window, this.theta);
    this.manifests = new ManifestWaiter(o.exchange, o.run, this.clock);
    this.standings = o.ledger?.standings() ?? new Map();
    this.unsubscribe = o.exchange.on('contribution', (c) => {
      const id = toHex(c.id);
      if (this.arrivedAt.has(id)) return;
      const t = this.now();
      this.arrivedAt.set(id, { window: c.window, at: t });
      o.ledger?.recordArrival(c, t);
    });
  }

  get currentWindow(): number {
    return this.window;
  }

  get params(): Float32Array {
    return this.theta;
  }

  async run(): Promise<void> {
    while (!this.stopped) {
      // Back after an outage longer than a window: the swarm moved on; take its model first.
      if (manifestDue(this.o.run, this.window) + this.o.run.windowMs < this.now() && (await this.catchUp())) continue;
      const wait = manifestDue(this.o.run, this.window) - this.now();
      if (wait > 0)
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          this.timer = this.clock.setTimeout(resolve, wait);
        });
      if (this.stopped) return;
      await this.close();
    }
  }

  stop(): void {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
    // run() may be waiting for the next deadline: let it see the stop and return now.
    this.wake?.();
    this.unsubscribe();
    this.manifests.close();
    this.server.close();
  }

  /** Syncs θ named by the newest manifest from neighbours; true if it moved to a later window. */
  private async catchUp(): Promise<boolean> {
    // Neighbours hand over the newest manifest as they connect; if none has one, nobody moved on.
    const m = await Promise.race([this.manifests.latest(), sleep(this.clock, 5000).then(() => undefined)]);
    if (!m || this.stopped || m.window < this.window) return false;
    try {
      this.theta = await fetchCheckpoint({
        exchange: this.o.exchange,
        mesh: this.o.mesh,
        window: m.window + 1,
        expectedHash: m.nextHash,
        floats: this.o.layout.totalFloats,
        timeoutMs: this.o.run.windowMs * 2,
        clock: this.clock,
      });
      this.o.log?.(`was at window ${this.window}; synced θ_${m.window + 1} from neighbours`);
      this.window = m.window + 1;
      this.server.hold(this.window, this.theta);
      return true;
    } catch (err) {
      if (!(err instanceof CheckpointSyncError)) throw err;
      this.o.log?.(`catching up: ${err.message}`);
      return false;
    }
  }

  private async close(): Promise<void> {
    const w = this.window;
    const o = this.o;
    // After a restart the ledger remembers when each contribution first arrived.
    const remembered = o.ledger?.arrivals(w) ?? new Map<string, number>();
    const arrivals = o.exchange
      .complete(w)
      .map((c) => ({ ...c, arrivedAt: remembered.get(toHex(c.header.id)) ?? this.arrivedAt.get(toHex(c.header.id))?.at ?? this.now() }));
    const result = await runGauntlet({
      runId: o.run.runId,
      window: w,
      windowStartMs: windowStart(o.run, w),
      closeAt: windowEnd(o.run, w) + o.run.graceMs,
      minSteps: o.run.minSteps,
      maxSteps: o.run.maxSteps,
      unitSteps: o.run.unitSteps,
      outerLr: o.run.outerLr,
      sequencesPerStep: o.run.batchSize,
      seqLen: o.run.seqLen,
      corpusLength: o.corpusLength,
      theta: this.theta,
      plan: this.plan,
      arrivals,
      signer: o.signer,
      probe: o.probe,
      limits: o.limits,
      proven: (address) => (this.standings.get(address)?.powEma ?? 0) >= PROVEN_POW_EMA,
    });
    if (this.stopped) return;
    o.exchange.publishManifest(result.manifest);
    this.manifests.add(result.manifest);
    const followed = await this.follow(w, result);
    if (this.stopped || !followed) return;
    for (const v of result.verdicts) if (v.earns) this.earners.add(v.address);
    const after = standingsAfter(this.standings, w, result.verdicts, this.earners);
    this.standings = after.standings;
    const weights = after.weights;
    const valLoss = await this.validationLoss(followed);
    if (this.stopped) return;
    const stats = { valLoss, durationMs: o.run.windowMs, denseBytesPerUpdate: o.layout.totalFloats * 4, online: o.mesh.present('peer') };
    o.ledger?.closeWindow({
      window: w,
      manifest: result.manifest,
      verdicts: result.verdicts,
      next: followed,
      standings: this.standings,
      weights,
      closedAt: this.now(),
      stats,
    });
    this.theta = followed;
    this.window = w + 1;
    this.server.hold(this.window, this.theta);
    o.exchange.prune(w);
    for (const [id, a] of this.arrivedAt) if (a.window <= w) this.arrivedAt.delete(id);
    o.log?.(
      `window ${w}: accepted ${result.accepted.length}, rejected ${result.rejected.length}${result.rejected.map((r) => ` (${r.peerAddress.slice(0, 10)}… ${r.reason})`).join('')}; θ_${w + 1} ${toHex(modelHash(followed)).slice(0, 12)}${valLoss === null ? '' : `, val loss ${valLoss.toFixed(4)}`}`,
    );
    o.onDecision?.({ ...result, window: w });
    await o.onWeights?.(w, weights);
  }

  private async validationLoss(theta: Float32Array): Promise<number | null> {
    const v = this.o.validation;
    if (!v || v.offsets.length === 0) return null;
    const losses = await v.probe.perSequence(theta, v.offsets);
    const mean = losses.reduce((s, l) => s + l, 0) / losses.length;
    return Number.isFinite(mean) ? mean : null;
  }

  /**
   * θ_{w+1} as the swarm has it: ours if our manifest is the one followed, else the
   * higher-ranked validator's applied to θ_w (so a standby is ready to take over).
   */
  private async follow(w: number, own: GauntletResult): Promise<Float32Array | undefined> {
    const chosen = await this.manifests.next(w);
    if (!chosen) return undefined;
    if (equalBytes(chosen.id, own.manifest.id)) return own.next;
    try {
      await this.fetchPayloads(chosen);
      const next = applyManifest(this.theta, chosen, this.plan, (id) => this.o.exchange.get(id)?.payload);
      this.o.log?.(`window ${w}: following validator ${toHex(chosen.publicKey).slice(0, 12)}'s manifest`);
      return next;
    } catch (err) {
      if (!(err instanceof ManifestError)) throw err;
      this.o.log?.(`window ${w}: cannot follow validator ${toHex(chosen.publicKey).slice(0, 12)} (${err.message}); keeping this validator's θ`);
      return own.next;
    }
  }

  private async fetchPayloads(m: Manifest): Promise<void> {
    const missing = (): Uint8Array[] => m.accepted.filter((id) => !this.o.exchange.get(id));
    const until = this.now() + this.o.run.windowMs;
    for (let attempt = 0; missing().length && !this.stopped && this.now() < until; attempt++) {
      if (attempt % 20 === 0) this.o.exchange.request(missing());
      await sleep(this.clock, 100);
    }
  }
}
