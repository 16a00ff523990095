// A peer's connection to the signaling server: joins the run's room, relays WebRTC signals,
// reports who comes and goes, and reconnects with jittered exponential backoff forever.
import { toHex } from '../protocol/bytes';
import { systemClock, type Clock, type TimerHandle } from '../protocol/clock';
import type { Signer } from '../protocol/keys';
import {
  parseServerMessage,
  parseSignalData,
  signedJoin,
  SIGNAL_LIMITS,
  type IceConfig,
  type PeerRole,
  type ServerMessage,
  type SignalData,
} from './signalingProtocol';

/** The part of the WebSocket API used here: the browser's, or the `ws` package's in Node. */
export interface SocketLike {
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}
export type SocketFactory = (url: string) => SocketLike;

export type SignalingState = 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface SignalingEvents {
  state: (state: SignalingState) => void;
  welcome: (peers: { peerId: string; role: PeerRole }[]) => void;
  'peer-joined': (peerId: string, role: PeerRole) => void;
  'peer-left': (peerId: string) => void;
  signal: (from: string, data: SignalData) => void;
  /** The server refused something, or sent something malformed. */
  problem: (message: string) => void;
}

export interface SignalingClientOptions {
  url: string;
  room: string;
  peerId: string;
  role?: PeerRole;
  /** Defaults to the global WebSocket (browsers, Node ≥ 22). */
  socket?: SocketFactory;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /**
   * The key this peer signs with: joins are signed over the server's nonce, so the server
   * binds the peer id to it and no one else can take the id over.
   */
  signer?: Signer;
  /** Reconnect backoff and keepalive timers; default: the system clock. */
  clock?: Clock;
}

const OPEN = 1;

export class SignalingClient {
  private ws?: SocketLike;
  private state: SignalingState = 'connecting';
  private attempt = 0;
  private timer?: TimerHandle;
  private keepalive?: TimerHandle;
  private lastHeard = 0;
  /** STUN/TURN servers (with fresh TURN credentials) the server last gave; undefined if none. */
  ice?: IceConfig;
  private readonly listeners: { [K in keyof SignalingEvents]: Set<SignalingEvents[K]> } = {
    state: new Set(),
    welcome: new Set(),
    'peer-joined': new Set(),
    'peer-left': new Set(),
    signal: new Set(),
    problem: new Set(),
  };

  private readonly clock: Clock;

  constructor(private readonly options: SignalingClientOptions) {
    this.clock = options.clock ?? systemClock;
    this.connect();
  }

  on<K extends keyof SignalingEvents>(event: K, listener: SignalingEvents[K]): () => void {
    this.listeners[event].add(listener);
    return () => this.listeners[event].delete(listener);
  }

  get connectionState(): SignalingState {
    return this.state;
  }

  /**
   * Relays a WebRTC signal; false when not connected (simple-peer will signal again) or when
   * it is not a shape the server relays (sending it would only earn this connection a strike).
   */
  send(to: string, data: unknown): boolean {
    if (this.ws?.readyState !== OPEN || this.state !== 'open') return false;
    const signal = parseSignalData(data);
    if (!signal) {
      this.emit('problem', `not sending a signal the server would refuse: ${String((data as { type?: unknown } | null)?.type).slice(0, 40)}`);
      return false;
    }
    this.ws.send(JSON.stringify({ type: 'signal', to, data: signal }));
    return true;
  }

  close(): void {
    this.setState('closed');
    this.clock.clearTimeout(this.timer);
    this.clock.clearInterval(this.keepalive);
    this.ws?.close(1000, 'bye');
  }

  private emit<K extends keyof SignalingEvents>(event: K, ...args: Parameters<SignalingEvents[K]>): void {
    for (const l of this.listeners[event]) (l as (...a: Parameters<SignalingEvents[K]>) => void)(...args);
  }

  private setState(state: SignalingState): void {
    if (this.state === state) return;
    this.state = state;
    this.emit('state', state);
  }

  private connect(): void {
    const factory = this.options.socket ?? ((url: string) => new WebSocket(url) as unknown as SocketLike);
    const ws = factory(this.options.url);
    this.ws = ws;
    ws.onopen = () => {
      this.lastHeard = this.clock.now();
      // A signed join waits for the server's nonce ('hello'); an anonymous one goes at once.
      if (!this.options.signer) this.join(ws);
    };
    ws.onmessage = (ev) => this.receive(ev.data);
    ws.onerror = () => undefined; // onclose follows and schedules the retry
    ws.onclose = () => {
      this.clock.clearInterval(this.keepalive);
      if (this.state !== 'closed') this.retry();
    };
  }

  private retry(): void {
    this.setState('reconnecting');
    const base = Math.min(this.options.maxBackoffMs ?? 10_000, (this.options.initialBackoffMs ?? 250) * 2 ** this.attempt++);
    // Jitter spreads a whole swarm's reconnects after a server restart.
    this.timer = this.clock.setTimeout(() => this.connect(), base * (0.5 + Math.random() / 2));
  }

  private receive(data: unknown): void {
    this.lastHeard = this.clock.now();
    const parsed = typeof data === 'string' ? parseServerMessage(data) : { ok: false as const, error: 'binary frame' };
    if (!parsed.ok) {
      this.emit('problem', `signaling server sent a bad message: ${parsed.error}`);
      return;
    }
    try {
      this.handle(parsed.message);
    } catch (err) {
      // A listener that throws on one peer's signal must not take the socket's handler (and in
      // Node the process) down with it.
      this.emit('problem', `handling a ${parsed.message.type} message failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private join(ws: SocketLike, nonce?: string): void {
    const { room, peerId, role, signer } = this.options;
    const auth =
      signer && nonce !== undefined
        ? { scheme: signer.scheme, publicKey: toHex(signer.publicKey), signature: toHex(signer.sign(signedJoin(nonce, room, peerId))) }
        : undefined;
    ws.send(JSON.stringify({ type: 'join', room, peerId, role: role ?? 'peer', ...(auth ? { auth } : {}) }));
  }

  private handle(m: ServerMessage): void {
    switch (m.type) {
      case 'hello':
        if (this.options.signer && this.ws) this.join(this.ws, m.nonce);
        break;
      case 'welcome':
        // Before 'welcome' is emitted: the mesh dials on it, with these servers. Assigned even
        // when absent: credentials from a previous server must not outlive the reconnect.
        this.ice = m.ice;
        this.attempt = 0;
        this.setState('open');
        this.startKeepalive(m.heartbeatMs);
        this.emit('welcome', m.peers);
        break;
      case 'peer-joined':
        this.emit('peer-joined', m.peerId, m.role);
        break;
      case 'peer-left':
        this.emit('peer-left', m.peerId);
        break;
      case 'signal':
        this.emit('signal', m.from, m.data);
        break;
      case 'error':
        this.emit('problem', `signaling server refused: ${m.code}: ${m.message}`);
        break;
      case 'ice':
        this.ice = m.ice;
        break;
      case 'pong':
        break;
    }
  }

  /** Pings the server; silence for two intervals means a dead link, so reconnect. */
  private startKeepalive(heartbeatMs: number): void {
    this.clock.clearInterval(this.keepalive);
    const every = Math.max(1000, Math.min(heartbeatMs, SIGNAL_LIMITS.heartbeatMs));
    this.keepalive = this.clock.setInterval(() => {
      if (this.clock.now() - this.lastHeard > 2 * every) {
        // A dead server never completes a close handshake: drop the socket and retry now.
        this.clock.clearInterval(this.keepalive);
        const dead = this.ws;
        if (dead) [dead.onclose, dead.onmessage] = [null, null];
        dead?.close(4001, 'server silent');
        this.retry();
        return;
      }
      if (this.ws?.readyState === OPEN) this.ws.send(JSON.stringify({ type: 'ping' }));
    }, every);
  }
}
