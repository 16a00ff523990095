// The mesh: up to K WebRTC neighbours found through the signaling server, whole binary
// messages to and from them, per-neighbour rate limits, bans for misbehaviour, refills.
import { systemClock, type Clock, type TimerHandle } from '../protocol/clock';
import { MAX_WIRE_BYTES } from '../protocol/wire';
import { FramingError } from './framing';
import { createPeerLink, type IceServerError, type PeerLink, type SignalData, type WrtcImplementation } from './peerLink';
import type { SignalingClient } from './signalingClient';
import type { PeerRole } from './signalingProtocol';

export interface MeshLimits {
  bytesPerSecond: number;
  messagesPerSecond: number;
  /** Burst allowance, in seconds of the rates above. */
  burstSeconds: number;
}

export const DEFAULT_MESH_LIMITS: MeshLimits = { bytesPerSecond: 16 * 2 ** 20, messagesPerSecond: 200, burstSeconds: 4 };

export interface MeshOptions {
  signaling: SignalingClient;
  selfId: string;
  maxNeighbours?: number;
  wrtc?: WrtcImplementation;
  /** STUN/TURN servers when the signaling server gives none (it does when the run has ICE settings). */
  iceServers?: RTCIceServer[];
  /**
   * The run file's ICE settings (RunConfig.ice). Its STUN servers are the fallback when the
   * signaling server gives none, and its relayOnly holds whatever that server says: a bare
   * `tessera signal` sends no ICE at all, and dialling directly would expose addresses.
   */
  runIce?: { stun: string[]; relayOnly: boolean };
  connectTimeoutMs?: number;
  banMs?: number;
  limits?: Partial<MeshLimits>;
  /** Largest message a neighbour may send (the reassembler refuses bigger ones first); default: the protocol's largest. */
  maxMessageBytes?: number;
  log?: (line: string) => void;
  /** Timers and timestamps (connect timeouts, bans, rate buckets, refills); default: the system clock. */
  clock?: Clock;
}

export interface MeshEvents {
  message: (from: string, message: Uint8Array) => void;
  up: (peerId: string) => void;
  down: (peerId: string, reason: string) => void;
  /** A STUN/TURN server failed for a link (401: credentials refused or expired). */
  'ice-error': (peerId: string, error: IceServerError) => void;
  /** The run requires relay but no TURN server with a credential is known: nobody is dialled (once until that changes). */
  'relay-unavailable': (reason: string) => void;
  /** The signaling server admitted this peer (its welcome, again after each rejoin); `present`: the others already there. */
  joined: (present: string[]) => void;
  /**
   * A link was refused: an offer from `peerId` (inbound) while it is banned or this peer is
   * full (K + ⌈K/2⌉ links), or a refill passed over a known peer (outbound) while it is banned.
   * It proves an absence: the peer tried, or was a candidate, and got no link.
   */
  refused: (peerId: string, reason: 'banned' | 'full', direction: 'inbound' | 'outbound') => void;
}

interface Neighbour {
  link: PeerLink;
  initiator: boolean;
  open: boolean;
  bucket: { bytes: number; messages: number; at: number };
  timer?: TimerHandle;
}

export class Mesh {
  private readonly links = new Map<string, Neighbour>();
  private readonly known = new Map<string, PeerRole>();
  private readonly banned = new Map<string, number>();
  private readonly listeners: { [K in keyof MeshEvents]: Set<MeshEvents[K]> } = {
    message: new Set(),
    up: new Set(),
    down: new Set(),
    'ice-error': new Set(),
    'relay-unavailable': new Set(),
    joined: new Set(),
    refused: new Set(),
  };
  private readonly limits: MeshLimits;
  private readonly unsubscribe: (() => void)[];
  private refillTimer?: TimerHandle;
  private closed = false;
  /** The relay-unavailable error was already reported (it is said once, not per dial). */
  private relayRefused = false;
  /** Bytes this peer sent and received over the mesh (metrics). */
  readonly traffic = { sent: 0, received: 0 };

  private readonly clock: Clock;

  constructor(private readonly options: MeshOptions) {
    this.clock = options.clock ?? systemClock;
    this.limits = { ...DEFAULT_MESH_LIMITS, ...options.limits };
    const s = options.signaling;
    this.unsubscribe = [
      // A newcomer dials the peers already present; they wait for its offer.
      s.on('welcome', (peers) => {
        for (const p of peers) this.known.set(p.peerId, p.role);
        this.refill();
        this.emit(
          'joined',
          peers.map((p) => p.peerId).filter((id) => id !== this.options.selfId),
        );
      }),
      s.on('peer-joined', (id, role) => void this.known.set(id, role)),
      s.on('peer-left', (id) => void this.known.delete(id)),
      s.on('signal', (from, data) => this.onSignal(from, data as SignalData)),
    ];
  }

  /** How many neighbours this peer dials (K). */
  get maxNeighbours(): number {
    return this.options.maxNeighbours ?? 8;
  }

  /**
   * Inbound offers are accepted up to K + ⌈K/2⌉: if every peer stopped at exactly K, a
   * newcomer could find all of them full (a closed clique) and never get in.
   */
  get hardCap(): number {
    return this.maxNeighbours + Math.ceil(this.maxNeighbours / 2);
  }

  on<K extends keyof MeshEvents>(event: K, listener: MeshEvents[K]): () => void {
    this.listeners[event].add(listener);
    return () => this.listeners[event].delete(listener);
  }

  /** How many others of `role` the signaling server says are in the room now (not only neighbours). */
  present(role: PeerRole): number {
    return [...this.known.entries()].filter(([id, r]) => r === role && id !== this.options.selfId).length;
  }

  /** Neighbours whose data channel is open. */
  neighbours(): string[] {
    return [...this.links].filter(([, n]) => n.open).map(([id]) => id);
  }

  /** Peers whose link is being set up (an offer made or answered, the data channel not open yet). */
  connecting(): string[] {
    return [...this.links].filter(([, n]) => !n.open).map(([id]) => id);
  }

  async send(to: string, message: Uint8Array): Promise<void> {
    const n = this.links.get(to);
    if (!n?.open) throw new Error(`no open link to ${to}`);
    this.traffic.sent += message.length;
    await n.link.send(message);
  }

  /** Sends to every open neighbour (except one); a failing neighbour does not stop the rest. */
  async broadcast(message: Uint8Array, except?: string): Promise<void> {
    await Promise.allSettled(
      this.neighbours()
        .filter((id) => id !== except)
        .map((id) => this.send(id, message)),
    );
  }

  /** Drops a neighbour that sent invalid data and refuses it for `banMs`. */
  punish(peerId: string, reason: string): void {
    this.banned.set(peerId, this.clock.now() + (this.options.banMs ?? 60_000));
    this.options.log?.(`[mesh] dropped and banned ${peerId}: ${reason}`);
    this.drop(peerId, `banned: ${reason}`);
  }

  isBanned(peerId: string): boolean {
    const until = this.banned.get(peerId);
    if (until === undefined) return false;
    if (this.clock.now() < until) return true;
    this.banned.delete(peerId);
    return false;
  }

  close(): void {
    this.closed = true;
    this.clock.clearTimeout(this.refillTimer);
    for (const u of this.unsubscribe) u();
    for (const id of [...this.links.keys()]) this.drop(id, 'mesh closed');
  }

  private emit<K extends keyof MeshEvents>(event: K, ...args: Parameters<MeshEvents[K]>): void {
    for (const l of this.listeners[event]) (l as (...a: Parameters<MeshEvents[K]>) => void)(...args);
  }

  private onSignal(from: string, data: SignalData): void {
    if (this.closed) return;
    if (this.isBanned(from)) {
      if (data.type === 'offer') this.emit('refused', from, 'banned', 'inbound');
      return;
    }
    const existing = this.links.get(from);
    if (data.type === 'offer') {
      // Both sides dialled at once: the lower id keeps its offer, the higher one answers.
      if (existing?.initiator && !existing.open && this.options.selfId < from) return;
      if (existing) this.drop(from, 'replaced by a new offer');
      if (this.links.size >= this.hardCap) {
        this.emit('refused', from, 'full', 'inbound');
        return;
      }
      this.connect(from, false)?.link.signal(data);
      return;
    }
    existing?.link.signal(data);
  }

  /** The ICE configuration for a new link; undefined when the run requires relay and no TURN credential is known. */
  private iceForLink(): { iceServers: RTCIceServer[]; iceTransportPolicy?: 'relay' } | undefined {
    // The signaling server's servers carry TURN credentials fresh at the time of this dial.
    const ice = this.options.signaling.ice;
    const run = this.options.runIce;
    const iceServers = ice?.iceServers ?? this.options.iceServers ?? (run?.stun.length ? [{ urls: run.stun }] : []);
    // Either side asking for relay is enough: the stricter setting wins.
    if (!ice?.relayOnly && !run?.relayOnly) return { iceServers };
    // A TURN URL without a credential cannot allocate, and 'relay' with no TURN gathers nothing.
    const turn = iceServers.some((s) => s.credential !== undefined && [s.urls].flat().some((u) => /^turns?:/.test(u)));
    if (turn) {
      this.relayRefused = false;
      return { iceServers, iceTransportPolicy: 'relay' };
    }
    if (!this.relayRefused) {
      this.relayRefused = true;
      const reason =
        'the run allows relayed (TURN) connections only, but the signaling server gave no TURN credential: dialling nobody rather than exposing addresses directly. Serve the run with its TURN secret (tessera serve --run FILE --turn-secret FILE).';
      this.options.log?.(`[mesh] ${reason}`);
      this.emit('relay-unavailable', reason);
    }
    return undefined;
  }

  private connect(peerId: string, initiator: boolean): Neighbour | undefined {
    const ice = this.iceForLink();
    if (!ice) return undefined;
    const link = createPeerLink({
      initiator,
      wrtc: this.options.wrtc,
      ...ice,
      limits: { maxMessageBytes: this.options.maxMessageBytes ?? MAX_WIRE_BYTES },
    });
    link.onIceError((e) => {
      this.options.log?.(`[mesh] ICE server ${e.url} failed for ${peerId}: ${e.code} ${e.text}`);
      this.emit('ice-error', peerId, e);
    });
    const n: Neighbour = { link, initiator, open: false, bucket: { bytes: 0, messages: 0, at: this.clock.now() } };
    this.links.set(peerId, n);
    link.onSignal((data) => this.options.signaling.send(peerId, data as unknown as Record<string, unknown>));
    // A link replaced by a newer one for the same peer (it restarted and dialled again) must
    // not take the newer one down with it when its own timer fires or its close event lands.
    const current = (): boolean => this.links.get(peerId) === n;
    n.timer = this.clock.setTimeout(() => {
      if (!n.open && current()) this.drop(peerId, 'connection timed out');
    }, this.options.connectTimeoutMs ?? 20_000);
    link.connected.then(
      () => {
        if (!current()) return;
        n.open = true;
        this.clock.clearTimeout(n.timer);
        this.emit('up', peerId);
      },
      () => undefined,
    );
    link.onMessage((m) => this.receive(peerId, n, m));
    link.onError((err) => {
      // Broken framing (oversized, malformed, flooding frames) is the sender's doing, not the network's.
      if (err instanceof FramingError) this.punish(peerId, `framing: ${err.message}`);
      else this.options.log?.(`[mesh] link to ${peerId} failed: ${err.message}`);
    });
    link.onClose(() => {
      if (current()) this.drop(peerId, 'link closed');
    });
    return n;
  }

  private receive(peerId: string, n: Neighbour, message: Uint8Array): void {
    const now = this.clock.now();
    const b = n.bucket;
    const elapsed = (now - b.at) / 1000;
    b.at = now;
    const { bytesPerSecond, messagesPerSecond, burstSeconds } = this.limits;
    b.bytes = Math.max(0, b.bytes - elapsed * bytesPerSecond) + message.length;
    b.messages = Math.max(0, b.messages - elapsed * messagesPerSecond) + 1;
    if (b.bytes > bytesPerSecond * burstSeconds || b.messages > messagesPerSecond * burstSeconds) {
      this.punish(peerId, 'rate limit exceeded');
      return;
    }
    this.traffic.received += message.length;
    this.emit('message', peerId, message);
  }

  private drop(peerId: string, reason: string): void {
    const n = this.links.get(peerId);
    if (!n) return;
    this.links.delete(peerId);
    this.clock.clearTimeout(n.timer);
    n.link.close();
    if (n.open) this.emit('down', peerId, reason);
    this.scheduleRefill();
  }

  private scheduleRefill(): void {
    if (this.closed) return;
    this.clock.clearTimeout(this.refillTimer);
    this.refillTimer = this.clock.setTimeout(() => this.refill(), 250 + Math.random() * 500);
  }

  /** Dials known peers (not banned, not observers' own links) until K links exist. */
  private refill(): void {
    if (this.closed) return;
    const candidates: string[] = [];
    for (const id of this.known.keys()) {
      if (id === this.options.selfId || this.links.has(id)) continue;
      if (this.isBanned(id)) this.emit('refused', id, 'banned', 'outbound');
      else candidates.push(id);
    }
    for (const id of candidates.sort(() => Math.random() - 0.5)) {
      if (this.links.size >= this.maxNeighbours) break;
      this.connect(id, true);
    }
  }
}
