// What a tab's swarm participation looks like to the page, and the handle on a running peer:
// shared by the hook (useSwarm.ts) and the code it loads on Join (joinSwarm.ts).
import type { IceProblem } from '../p2p/iceProblem';
import type { RunConfig } from '../protocol/runConfig';
import type { SwarmPhase, WindowReport } from '../swarm/swarmPeer';
import type { Effort } from '../swarm/windowTrainer';
import type { BrowserTotals } from './browserTotals';
import type { PhaseSpan } from './phaseSpan';

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
  /** What the phase bar measures: training toward the deadline, then waiting for the manifest. */
  phaseSpan?: PhaseSpan;
  neighbours: number;
  /** The model download (a newcomer's); `verified` once θ matched the manifest and training began. */
  sync?: { received: number; total: number; window: number; verified: boolean };
  history: WindowReport[];
  /** This browser's totals for the run, kept across reloads. */
  totals?: BrowserTotals;
  error?: string;
  /** The last time the tab recovered by itself: why (a lost GPU device, a sleep), when, and what it did. */
  recovery?: Recovery;
  /** A STUN/TURN server failed (the swarm may still connect another way, or not at all if relay-only). */
  iceProblem?: IceProblem;
}

export interface Recovery {
  what: string;
  at: number;
  /** rejoining: a fresh peer (worker, device, links) starts after a pause; resyncing: the peer fetches the swarm's model. */
  action: 'rejoining' | 'resyncing';
  /** The how-many-th rejoin in a row, of at most `of`. */
  attempt?: number;
  of?: number;
}

export interface Joined {
  /** Stops the peer and releases its worker, mesh and signaling connection (again: no-op). */
  stop(): void;
  /** The peer's run: resolves when stopped, rejects with the error that stopped it. */
  running: Promise<void>;
  /** The power setting, passed to the trainer (it applies from the next work unit). */
  setEffort(effort: Effort): void;
}
