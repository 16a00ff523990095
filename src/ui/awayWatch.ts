// Notices when the page's thread stood still (the device slept, the browser froze or paused
// the tab): a 1 s tick that comes late by seconds says for how long, so the tab can say so.

export interface Away {
  ms: number;
  /** When the page ran again (epoch ms). */
  endedAt: number;
}

/** A tick this much later than due counts as time away, not a busy thread. */
const AWAY_MS = 4000;

export class AwayWatch {
  private last: number;
  private recent: Away | undefined;
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(
    private readonly now: () => number = Date.now,
    private readonly everyMs = 1000,
  ) {
    this.last = now();
    this.timer = setInterval(() => this.tick(), everyMs);
  }

  /** The last time away that ended within `withinMs` of now, if any. */
  awayWithin(withinMs: number): Away | undefined {
    this.tick(); // a gap still open (the first code to run after waking) counts too
    return this.recent && this.now() - this.recent.endedAt <= withinMs ? this.recent : undefined;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private tick(): void {
    const t = this.now();
    const gap = t - this.last;
    if (gap - this.everyMs >= AWAY_MS) this.recent = { ms: gap, endedAt: t };
    this.last = t;
  }
}

/** "this tab stood still for 28 s (…)", or undefined when it did not lately. */
export function describeAway(away: Away | undefined): string | undefined {
  return away && `this tab stood still for ${Math.round(away.ms / 1000)} s (the device slept, or the browser froze the tab)`;
}
