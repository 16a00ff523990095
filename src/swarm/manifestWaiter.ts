// Which manifest a replica follows for a window: the first configured validator key that
// published one; if that validator stays silent past its deadline, the next key's (failover).
import type { ContributionExchange } from '../p2p/exchange';
import { toHex } from '../protocol/bytes';
import type { Manifest } from '../protocol/contribution';
import { manifestDue, type RunConfig } from '../protocol/runConfig';
import type { Clock } from '../protocol/clock';

export class ManifestWaiter {
  private readonly byWindow = new Map<number, Map<number, Manifest>>();
  private readonly wake = new Set<() => void>();
  private readonly unsubscribe: () => void;
  private closed = false;

  constructor(
    exchange: ContributionExchange,
    private readonly run: RunConfig,
    private readonly clock: Clock,
  ) {
    this.unsubscribe = exchange.on('manifest', (m) => this.add(m));
  }

  /** Manifests from keys outside the run's list are ignored. */
  add(m: Manifest): void {
    const rank = this.run.validatorKeys.indexOf(toHex(m.publicKey));
    if (rank < 0) return;
    const forWindow = this.byWindow.get(m.window) ?? new Map<number, Manifest>();
    if (!forWindow.has(rank)) forWindow.set(rank, m);
    this.byWindow.set(m.window, forWindow);
    for (const w of this.wake) w();
  }

  /** Resolves with window w's manifest, or undefined once closed. */
  next(w: number): Promise<Manifest | undefined> {
    return this.wait(w, false);
  }

  /**
   * Window w's manifest, or — once w's failover deadline has passed and a later window's
   * manifest is known — that newest one: w's was published while we could not hear it (a
   * validator that restarted and caught up before our link to it was back), so waiting for it
   * would wait forever; the caller resyncs to the newer model instead.
   */
  nextOrNewer(w: number): Promise<Manifest | undefined> {
    return this.wait(w, true);
  }

  private async wait(w: number, orNewer: boolean): Promise<Manifest | undefined> {
    // The primary gets one grace period past its deadline before a backup is followed.
    const failoverAt = manifestDue(this.run, w) + this.run.graceMs;
    while (!this.closed) {
      const found = this.byWindow.get(w);
      const primary = found?.get(0);
      if (primary) return this.take(w, primary);
      const late = this.clock.now() >= failoverAt;
      if (found?.size && late) return this.take(w, found.get(Math.min(...found.keys())) as Manifest);
      const newest = Math.max(-1, ...this.byWindow.keys());
      if (orNewer && late && newest > w) {
        const later = this.byWindow.get(newest) as Map<number, Manifest>;
        return later.get(Math.min(...later.keys()));
      }
      await this.sleep(Math.max(50, Math.min(1000, failoverAt - this.clock.now())));
    }
    return undefined;
  }

  /** The newest manifest from any configured key (waits for one): where a newcomer syncs to. */
  async latest(): Promise<Manifest | undefined> {
    while (!this.closed) {
      const windows = [...this.byWindow.keys()];
      if (windows.length) {
        const found = this.byWindow.get(Math.max(...windows)) as Map<number, Manifest>;
        return found.get(Math.min(...found.keys()));
      }
      await this.sleep(1000);
    }
    return undefined;
  }

  close(): void {
    this.closed = true;
    this.unsubscribe();
    for (const w of [...this.wake]) w();
  }

  /** Until a manifest arrives, close() is called, or `ms` pass. */
  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        this.wake.delete(done);
        this.clock.clearTimeout(timer);
        resolve();
      };
      const timer = this.clock.setTimeout(done, ms);
      this.wake.add(done);
    });
  }

  private take(w: number, m: Manifest): Manifest {
    for (const k of this.byWindow.keys()) if (k <= w) this.byWindow.delete(k);
    return m;
  }
}
