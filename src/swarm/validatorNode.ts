// The minimal validator on the network: holds θ_w like any replica, closes each window at
// its deadline, accepts well-formed signed contributions, and publishes the signed manifest.
import type { ParamLayout } from '../gpu/layout';
import type { ContributionExchange } from '../p2p/exchange';
import type { Mesh } from '../p2p/mesh';
import { CheckpointServer } from './checkpointSync';
import { toHex } from '../protocol/bytes';
import type { Signer } from '../protocol/keys';
import { decideWindow, type WindowDecision } from '../validator/manifest';
import { authorityRefusal, manifestDue, windowStart, type RunConfig } from './runConfig';

export interface ValidatorNodeOptions {
  run: RunConfig;
  layout: ParamLayout;
  exchange: ContributionExchange;
  mesh: Mesh;
  signer: Signer;
  theta: Float32Array;
  window: number;
  now?: () => number;
  log?: (line: string) => void;
  onDecision?: (decision: WindowDecision) => void;
}

export class ValidatorNode {
  private theta: Float32Array;
  private window: number;
  private stopped = false;
  private timer?: ReturnType<typeof setTimeout>;
  private readonly server: CheckpointServer;

  constructor(private readonly o: ValidatorNodeOptions) {
    this.theta = o.theta.slice();
    this.window = o.window;
    o.exchange.acceptWhen((c) => c.window === this.window, authorityRefusal(o.run));
    this.server = new CheckpointServer(o.exchange, o.mesh);
    this.server.hold(this.window, this.theta);
  }

  get currentWindow(): number {
    return this.window;
  }

  async run(): Promise<void> {
    const now = this.o.now ?? Date.now;
    while (!this.stopped) {
      const wait = manifestDue(this.o.run, this.window) - now();
      if (wait > 0) await new Promise<void>((resolve) => (this.timer = setTimeout(resolve, wait)));
      if (this.stopped) return;
      this.close();
    }
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.server.close();
  }

  private close(): void {
    const w = this.window;
    const decision = decideWindow({ runId: this.o.run.runId, window: w, windowStartMs: windowStart(this.o.run, w), theta: this.theta, layout: this.o.layout, candidates: this.o.exchange.complete(w), outerLr: this.o.run.outerLr, minSteps: this.o.run.minSteps, signer: this.o.signer });
    this.o.exchange.publishManifest(decision.manifest);
    this.theta = decision.next;
    this.window = w + 1;
    this.server.hold(this.window, this.theta);
    this.o.exchange.prune(w);
    this.o.log?.(`window ${w}: accepted ${decision.accepted.length}, rejected ${decision.rejected.length}${decision.rejected.map((r) => ` (${r.peerAddress}: ${r.reason})`).join('')}; θ_${w + 1} ${toHex(decision.manifest.nextHash).slice(0, 12)}`);
    this.o.onDecision?.(decision);
  }
}
