// Joining, leaving and rejoining by itself, apart from React: a peer that fails (its worker died,
// its GPU device was lost) is released and a fresh one started after 2 s, 5 s and 15 s, then it stops.
import type { RunConfig } from '../protocol/runConfig';
import { FULL_EFFORT, type Effort } from '../swarm/windowTrainer';
import type { Joined, SwarmView } from './swarmView';

export const REJOIN_DELAYS_MS = [2_000, 5_000, 15_000] as const;

export type ViewUpdate = (f: (v: SwarmView) => SwarmView) => void;
/** Starts a peer for `run` (joinSwarm.ts's startPeer in the page), reporting through `update`. */
export type StartPeer = (run: RunConfig, signal: string, update: ViewUpdate) => Promise<Joined>;

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));
const stopped = (v: SwarmView): SwarmView => ({ ...v, phase: 'stopped', phaseSpan: undefined, sync: undefined });

export class SwarmJoiner {
  private joined: Joined | null = null;
  /** Join pressed and Leave not: only then does a failure rejoin. */
  private wanted = false;
  /** Failures in a row; a peer that ran two windows was healthy and starts the count again. */
  private failures = 0;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private effort: Effort = FULL_EFFORT;
  /** False once the page is gone: a peer that finishes starting after that is stopped at once. */
  private open = true;
  /**
   * Which start is current: Leave and each start move it on, so a start still pending from
   * before (Leave, then Join again) is stopped when it resolves, never kept beside the new one.
   */
  private generation = 0;

  constructor(
    private readonly update: ViewUpdate,
    private readonly start: StartPeer,
  ) {}

  /** The power setting, for the running peer and every later one. */
  setEffort(effort: Effort): void {
    this.effort = effort;
    this.joined?.setEffort(effort);
  }

  join(run: RunConfig, signal: string): void {
    if (this.joined || this.wanted) return;
    this.wanted = true;
    this.failures = 0;
    this.report((v) => ({ ...v, recovery: undefined }));
    this.begin(run, signal);
  }

  leave(): void {
    this.release();
    this.update((v) => ({ ...stopped(v), status: 'available', recovery: undefined }));
  }

  /** The page is going: stop everything and report nothing more. */
  close(): void {
    this.open = false;
    this.release();
  }

  /** The page is (back) on screen: reports go through again. */
  reopen(): void {
    this.open = true;
  }

  private release(): void {
    this.generation++;
    this.wanted = false;
    clearTimeout(this.retry);
    this.joined?.stop();
    this.joined = null;
  }

  private report: ViewUpdate = (f) => {
    if (this.open) this.update(f);
  };

  private begin(run: RunConfig, signal: string): void {
    const generation = ++this.generation;
    this.report((v) => ({ ...v, status: 'joining', error: undefined }));
    this.start(run, signal, this.report).then(
      (j) => {
        if (generation !== this.generation) {
          j.stop();
          j.running.catch(() => undefined); // whatever it ends with, nobody waits for it now
          // Left while it started: it reported itself joined, so say it is not (a newer start reports for itself).
          if (!this.wanted) this.report((v) => ({ ...stopped(v), status: 'available' }));
          return;
        }
        this.joined = j;
        j.setEffort(this.effort);
        const startedAt = Date.now();
        j.running.catch((err: unknown) => {
          j.stop();
          if (this.joined !== j) return; // left meanwhile
          this.joined = null;
          this.failed(run, signal, message(err), Date.now() - startedAt);
        });
      },
      (err: unknown) => {
        if (generation !== this.generation) return; // left, or superseded, meanwhile
        // A first Join that cannot start (no WebGPU, a bad run) says so at once; a rejoin tries again.
        if (this.failures > 0) this.failed(run, signal, message(err), 0);
        else this.giveUp(message(err));
      },
    );
  }

  private failed(run: RunConfig, signal: string, what: string, ranForMs: number): void {
    if (!this.wanted || !this.open) return;
    if (ranForMs > 2 * run.windowMs) this.failures = 0;
    const attempt = this.failures++;
    if (attempt >= REJOIN_DELAYS_MS.length) return this.giveUp(what);
    this.report((v) => ({
      ...stopped(v),
      status: 'joining',
      recovery: { what, at: Date.now(), action: 'rejoining', attempt: attempt + 1, of: REJOIN_DELAYS_MS.length },
    }));
    this.retry = setTimeout(() => this.begin(run, signal), REJOIN_DELAYS_MS[attempt]);
  }

  private giveUp(what: string): void {
    this.wanted = false;
    this.failures = 0;
    this.report((v) => ({ ...stopped(v), status: 'error', recovery: undefined, error: what }));
  }
}
