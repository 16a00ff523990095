// Content-addressed exchange over the mesh: signed contribution headers are gossiped, their
// payloads pulled by id from a neighbour that has them and verified, manifests flooded.
import { equalBytes, ProtocolError, toHex } from '../protocol/bytes';
import { systemClock, type Clock, type TimerHandle } from '../protocol/clock';
import { decodeContribution, decodeManifest, type Contribution, type Manifest } from '../protocol/contribution';
import { contentHash } from '../protocol/hash';
import { decodeWire, encodeWire, type WireMessage } from '../protocol/wire';
import type { Mesh } from './mesh';

export interface ExchangeOptions {
  mesh: Mesh;
  runId: string;
  /** Whether a contribution's window is still open; a closed one is ignored. Default: none is. */
  accepts?(c: Contribution): boolean;
  /** How long to wait for a payload from one source before asking another. */
  pullTimeoutMs?: number;
  log?: (line: string) => void;
  /** Pull timeouts; default: the system clock. */
  clock?: Clock;
}

export interface ExchangeEvents {
  /** A contribution whose payload arrived and matched its signed hash. */
  contribution: (c: Contribution, payload: Uint8Array, from: string | null) => void;
  manifest: (m: Manifest, from: string) => void;
  /** Other message types (checkpoint sync) for the layer above. */
  other: (m: WireMessage, from: string) => void;
}

interface Entry {
  header: Contribution;
  payload?: Uint8Array;
  sources: string[];
  asked?: string;
  timer?: TimerHandle;
}

export class ContributionExchange {
  private readonly entries = new Map<string, Entry>();
  private readonly manifests = new Set<string>();
  /** The newest manifest seen, handed to each new neighbour so a newcomer can sync at once. */
  private latestManifest?: Manifest;
  private readonly listeners: { [K in keyof ExchangeEvents]: Set<ExchangeEvents[K]> } = { contribution: new Set(), manifest: new Set(), other: new Set() };
  private readonly unsubscribe: (() => void)[];
  private accepts: (c: Contribution) => boolean;
  private authorize: (c: Contribution) => string | undefined = () => undefined;

  private readonly clock: Clock;

  constructor(private readonly options: ExchangeOptions) {
    this.clock = options.clock ?? systemClock;
    this.accepts = options.accepts ?? (() => false);
    this.unsubscribe = [
      options.mesh.on('message', (from, bytes) => this.receive(from, bytes)),
      // A new neighbour learns what we hold, so late joiners can pull this window's payloads.
      options.mesh.on('up', (id) => {
        if (this.latestManifest) void this.sendTo(id, { type: 'manifest', manifest: this.latestManifest.bytes });
        for (const e of this.entries.values()) if (e.payload) void this.sendTo(id, { type: 'announce', contribution: e.header.bytes });
      }),
    ];
  }

  /**
   * The round logic that owns this exchange decides which windows are open, and (`authorize`)
   * why a header may not speak for its address: such a header is refused and its sender punished.
   */
  acceptWhen(accepts: (c: Contribution) => boolean, authorize?: (c: Contribution) => string | undefined): void {
    this.accepts = accepts;
    if (authorize) this.authorize = authorize;
  }

  on<K extends keyof ExchangeEvents>(event: K, listener: ExchangeEvents[K]): () => void {
    this.listeners[event].add(listener);
    return () => this.listeners[event].delete(listener);
  }

  /** Our own contribution: stored and announced to every neighbour. */
  publish(header: Contribution, payload: Uint8Array): void {
    this.entries.set(toHex(header.id), { header, payload, sources: [] });
    void this.options.mesh.broadcast(encodeWire({ type: 'announce', contribution: header.bytes }));
  }

  publishManifest(m: Manifest): void {
    this.manifests.add(toHex(m.id));
    this.noteManifest(m);
    void this.options.mesh.broadcast(encodeWire({ type: 'manifest', manifest: m.bytes }));
  }

  /** A complete contribution by id, if we hold its payload. */
  get(id: Uint8Array): { header: Contribution; payload: Uint8Array } | undefined {
    const e = this.entries.get(toHex(id));
    return e?.payload ? { header: e.header, payload: e.payload } : undefined;
  }

  /** Complete contributions for a window, in arrival order. */
  complete(window: number): { header: Contribution; payload: Uint8Array }[] {
    return [...this.entries.values()]
      .filter((e) => e.payload && e.header.window === window)
      .map((e) => ({ header: e.header, payload: e.payload as Uint8Array }));
  }

  /** Forgets windows before `window` (their payloads are applied or refused for good). */
  prune(window: number): void {
    for (const [k, e] of this.entries) {
      if (e.header.window < window) {
        this.clock.clearTimeout(e.timer);
        this.entries.delete(k);
      }
    }
  }

  /** Asks every neighbour for ids we lack (after a manifest names them). */
  request(ids: Uint8Array[]): void {
    for (const id of ids) {
      const e = this.entries.get(toHex(id));
      if (!e?.payload) void this.options.mesh.broadcast(encodeWire({ type: 'want', id }));
    }
  }

  close(): void {
    for (const u of this.unsubscribe) u();
    for (const e of this.entries.values()) this.clock.clearTimeout(e.timer);
  }

  private noteManifest(m: Manifest): void {
    if (!this.latestManifest || m.window > this.latestManifest.window) this.latestManifest = m;
  }

  private emit<K extends keyof ExchangeEvents>(event: K, ...args: Parameters<ExchangeEvents[K]>): void {
    for (const l of this.listeners[event]) (l as (...a: Parameters<ExchangeEvents[K]>) => void)(...args);
  }

  private async sendTo(peer: string, m: WireMessage): Promise<void> {
    try {
      await this.options.mesh.send(peer, encodeWire(m));
    } catch {
      // The neighbour went away; pulls time out and move to another source.
    }
  }

  private receive(from: string, bytes: Uint8Array): void {
    try {
      this.handle(from, decodeWire(bytes));
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      this.options.mesh.punish(from, err.message);
    }
  }

  private handle(from: string, m: WireMessage): void {
    switch (m.type) {
      case 'announce':
        return this.onAnnounce(from, decodeContribution(m.contribution, this.options.runId));
      case 'want': {
        // Header first (channels are ordered), so an asker that only knew the id can verify.
        const e = this.entries.get(toHex(m.id));
        if (!e?.payload) return;
        void this.sendTo(from, { type: 'announce', contribution: e.header.bytes });
        void this.sendTo(from, { type: 'payload', id: m.id, payload: e.payload });
        return;
      }
      case 'payload':
        return this.onPayload(from, m.id, m.payload);
      case 'manifest': {
        const manifest = decodeManifest(m.manifest, this.options.runId);
        const key = toHex(manifest.id);
        if (this.manifests.has(key)) return;
        this.manifests.add(key);
        this.noteManifest(manifest);
        void this.options.mesh.broadcast(encodeWire(m), from);
        this.emit('manifest', manifest, from);
        return;
      }
      default:
        this.emit('other', m, from);
    }
  }

  private onAnnounce(from: string, header: Contribution): void {
    if (!this.accepts(header)) return;
    const refusal = this.authorize(header);
    if (refusal) throw new ProtocolError('unauthorized', `contribution ${toHex(header.id).slice(0, 12)} from ${header.peerAddress}: ${refusal}`);
    const key = toHex(header.id);
    const e = this.entries.get(key);
    if (e) {
      if (!e.payload && !e.sources.includes(from)) e.sources.push(from);
      return;
    }
    const entry: Entry = { header, sources: [from] };
    this.entries.set(key, entry);
    this.pull(entry);
  }

  /** Asks the next source; if it stays silent, the one after (a dropped peer does not stall us). */
  private pull(e: Entry): void {
    const source = e.sources.find((s) => s !== e.asked) ?? e.sources[0];
    if (!source || e.payload) return;
    e.asked = source;
    void this.sendTo(source, { type: 'want', id: e.header.id });
    this.clock.clearTimeout(e.timer);
    e.timer = this.clock.setTimeout(() => {
      if (e.payload) return;
      e.sources = e.sources.filter((s) => s !== source).concat(source);
      this.pull(e);
    }, this.options.pullTimeoutMs ?? 5000);
  }

  private onPayload(from: string, id: Uint8Array, payload: Uint8Array): void {
    const e = this.entries.get(toHex(id));
    if (!e || e.payload) return; // unsolicited or duplicate: harmless, ignored
    if (payload.length !== e.header.payloadBytes || !equalBytes(contentHash(payload), e.header.payloadHash)) {
      throw new ProtocolError('bad-field', `payload for ${toHex(id).slice(0, 12)} does not match its signed size and hash`);
    }
    e.payload = payload;
    this.clock.clearTimeout(e.timer);
    this.emit('contribution', e.header, payload, from);
    // Re-announce: neighbours that lack it pull it from us.
    void this.options.mesh.broadcast(encodeWire({ type: 'announce', contribution: e.header.bytes }), from);
  }
}
