// The app server's cache in front of a validator's status API: however many dashboards poll,
// each answer is read upstream at most once per interval, and concurrent polls share one read.
import { fetchValidatorStatus } from './validatorStatus';

export interface RelayOptions {
  /** How long an answer is served before it is read again, by the path it came from. */
  freshMs?: (target: string) => number;
  /** An answer this old is still served (marked by its age) while the validator does not answer. */
  staleMs?: number;
  /** Distinct upstream URLs kept (history pages, addresses); the least recently used go first. */
  maxEntries?: number;
  fetch?: (url: string) => Promise<unknown>;
  now?: () => number;
}

interface Entry {
  body?: string;
  fetchedAt: number;
  inflight?: Promise<string>;
}

/**
 * The snapshot changes every few seconds at most, history and an address's record only when a
 * window closes: 2 s, 5 s and 10 s keep the dashboard current and the validator unbothered.
 */
export function defaultFreshMs(target: string): number {
  if (target.includes('/history')) return 5_000;
  if (target.includes('/address')) return 10_000;
  return 2_000;
}

export class StatusRelay {
  private readonly entries = new Map<string, Entry>();
  private readonly freshMs: (target: string) => number;
  private readonly staleMs: number;
  private readonly maxEntries: number;
  private readonly fetchJson: (url: string) => Promise<unknown>;
  private readonly now: () => number;
  /** Reads sent upstream, for /healthz and the viewers benchmark. */
  upstreamReads = 0;

  constructor(o: RelayOptions = {}) {
    this.freshMs = o.freshMs ?? defaultFreshMs;
    this.staleMs = o.staleMs ?? 30_000;
    this.maxEntries = o.maxEntries ?? 512;
    this.fetchJson = o.fetch ?? ((url) => fetchValidatorStatus(url));
    this.now = o.now ?? Date.now;
  }

  /** The answer for `target`: cached while fresh, read once for all waiting callers when not. */
  async get(target: string): Promise<{ body: string; ageMs: number }> {
    const entry = this.touch(target);
    const age = this.now() - entry.fetchedAt;
    if (entry.body !== undefined && age < this.freshMs(target)) return { body: entry.body, ageMs: age };
    try {
      return { body: await (entry.inflight ??= this.read(target, entry)), ageMs: 0 };
    } catch (err) {
      const staleAge = this.now() - entry.fetchedAt;
      if (entry.body !== undefined && staleAge < this.staleMs) return { body: entry.body, ageMs: staleAge };
      throw err;
    }
  }

  clear(): void {
    this.entries.clear();
  }

  private async read(target: string, entry: Entry): Promise<string> {
    this.upstreamReads++;
    try {
      const body = JSON.stringify(await this.fetchJson(target));
      entry.body = body;
      entry.fetchedAt = this.now();
      return body;
    } finally {
      entry.inflight = undefined;
    }
  }

  /** The entry for `target`, moved to the back of the eviction order (Map keeps insertion order). */
  private touch(target: string): Entry {
    const entry = this.entries.get(target) ?? { fetchedAt: 0 };
    this.entries.delete(target);
    this.entries.set(target, entry);
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    return entry;
  }
}
