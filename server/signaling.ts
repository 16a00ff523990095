// The signaling server: a WebSocket rendezvous where peers of one run find each other and
// relay WebRTC offers, answers and ICE candidates. It holds no training state at all.
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { randomBytes } from 'node:crypto';
import { fromHex } from '../src/protocol/bytes';
import { verifySignature } from '../src/protocol/keys';
import {
  parseClientMessage,
  signedJoin,
  SIGNAL_LIMITS,
  type AddressLimits,
  type ClientMessage,
  type IceConfig,
  type PeerRole,
  type ServerMessage,
  type SignalErrorCode,
} from '../src/p2p/signalingProtocol';
import type { IceSettings } from '../src/protocol/runConfig';
import { AddressBook, DEFAULT_ADDRESS_LIMITS, KeyBindings, TokenBucket, type AddressShare } from './signalingLimits';
import { turnCredential } from './turnCredentials';

/** The run's STUN/TURN servers and the secret shared with the TURN server (coturn's static-auth-secret). */
export interface SignalingIce {
  settings: IceSettings;
  turnSecret?: string;
  /** Lifetime of issued TURN credentials (default 1 h); they are re-issued at half of it. */
  ttlSeconds?: number;
  /** The clock credentials are dated by (tests set it to make expired ones). */
  now?: () => number;
}

export const DEFAULT_TURN_TTL_SECONDS = 3600;

export interface SignalingOptions {
  /** Path of the WebSocket endpoint on the HTTP server. */
  path?: string;
  /** Interval of WebSocket pings; a peer that misses one is dropped. */
  heartbeatMs?: number;
  /** Messages per second one connection may sustain, and the burst it may spend at once. */
  ratePerSecond?: number;
  burst?: number;
  /** ICE servers handed to every peer that joins (with its own TURN credentials). */
  ice?: SignalingIce;
  /**
   * The only room that may be joined (the run's id, when the server serves one run); any
   * room otherwise. Without it, anyone could name a room of their own and be handed TURN
   * credentials: the operator's relay for traffic that has nothing to do with the run.
   */
  room?: string;
  /**
   * Behind a reverse proxy every connection comes from the proxy: use the client address the
   * proxy appended to X-Forwarded-For instead, in the log and for the per-address limits. Only
   * the last entry is the proxy's own; earlier ones are whatever the client sent.
   */
  trustProxy?: boolean;
  /**
   * The run's validator keys (hex public keys, as in run.json). When given, only these may
   * join with role 'validator'; they may take over an id that another key claimed first (so
   * nobody can squat the validator's name), and have places beyond `maxRoomSize`, one per key.
   * Without it (a bare `tessera signal`) any key may join as a validator, with no reservation.
   */
  validatorKeys?: string[];
  /** Members of one room, validators' reserved places aside (default SIGNAL_LIMITS.maxRoomSize). */
  maxRoomSize?: number;
  /** A connection that has not joined within this is closed (default SIGNAL_LIMITS.joinTimeoutMs). */
  joinTimeoutMs?: number;
  /** Peer ids remembered with their key (default SIGNAL_LIMITS.maxKeyBindings). */
  maxKeyBindings?: number;
  /** Each remote address's share across all its connections (defaults: SIGNAL_LIMITS.perAddress). */
  addressLimits?: Partial<AddressLimits>;
  log?: (event: Record<string, unknown>) => void;
}

export interface SignalingStats {
  rooms: number;
  peers: number;
  relayed: number;
  refused: number;
}

export interface SignalingServer {
  stats(): SignalingStats;
  close(): Promise<void>;
}

interface Member {
  socket: WebSocket;
  peerId: string;
  role: PeerRole;
  room: string;
  /** The key that signed the join (hex): the id stays bound to it. */
  key: string;
  /** The remote address's accounting key, for fair shares of a full room. */
  address: string;
  /** In one of the validators' reserved places, beyond maxRoomSize. */
  reserved: boolean;
  /** Join order: a full room takes back an address's newest member first. */
  seq: number;
  /** Closes this member's connection and ignores whatever it still has queued. */
  shut(code: number, reason: string): void;
}

type Room = Map<string, Member>;
type JoinMessage = Extract<ClientMessage, { type: 'join' }>;

/** Everything the connections of one signaling endpoint share. */
interface Hub {
  rooms: Map<string, Room>;
  addresses: AddressBook;
  bindings: KeyBindings;
  validators?: ReadonlySet<string>;
  counters: { relayed: number; refused: number; seq: number };
  log: (event: Record<string, unknown>) => void;
  heartbeatMs: number;
  maxRoomSize: number;
  joinTimeoutMs: number;
  ratePerSecond: number;
  burst: number;
  room?: string;
  ice?: SignalingIce;
}

/** How long a closed connection may take to finish the close handshake before it is cut. */
const CLOSE_GRACE_MS = 1000;
/** Unsent bytes the server queues for one connection before it drops it as a reader that stopped. */
const MAX_BUFFERED_BYTES = 1024 * 1024;
/** How often addresses with nothing left to account for are forgotten. */
const SWEEP_MS = 30_000;

/** Who is connecting, for the log: the socket's peer, or with `trustProxy` the address the proxy saw. */
export function clientAddress(req: IncomingMessage, trustProxy = false): string {
  const forwarded = trustProxy
    ? String(req.headers['x-forwarded-for'] ?? '')
        .split(',')
        .at(-1)
        ?.trim()
    : undefined;
  return forwarded || (req.socket.remoteAddress ?? 'unknown');
}

/** What a joining peer is told to use: STUN as is, TURN with credentials issued for it now. */
export function iceConfigFor(ice: SignalingIce, peerId: string): IceConfig {
  const { stun, turn, relayOnly } = ice.settings;
  const servers: IceConfig['iceServers'] = stun.length ? [{ urls: stun }] : [];
  if (turn.length === 0) return { iceServers: servers, relayOnly, expiresAt: null };
  if (!ice.turnSecret) throw new Error('the run lists TURN servers but the signaling server has no TURN secret (--turn-secret FILE or TESSERA_TURN_SECRET)');
  const c = turnCredential(ice.turnSecret, peerId, ice.ttlSeconds ?? DEFAULT_TURN_TTL_SECONDS, (ice.now ?? Date.now)());
  return { iceServers: [...servers, { urls: turn, username: c.username, credential: c.credential }], relayOnly, expiresAt: c.expiresAt };
}

/** The path of a request target, or undefined when it is not a URL at all (`http://a:99999/`). */
export function requestPath(target: string | undefined): string | undefined {
  try {
    return new URL(target ?? '/', 'http://localhost').pathname;
  } catch {
    return undefined;
  }
}

function createHub(options: SignalingOptions): Hub {
  const userLog = options.log ?? (() => undefined);
  const validators = options.validatorKeys ? new Set(options.validatorKeys.map((k) => k.toLowerCase())) : undefined;
  return {
    rooms: new Map(),
    addresses: new AddressBook({ ...DEFAULT_ADDRESS_LIMITS, ...options.addressLimits }),
    // Validators' ids are never forgotten: a flood of throwaway ids must not free them for squatters.
    bindings: new KeyBindings(options.maxKeyBindings ?? SIGNAL_LIMITS.maxKeyBindings, (key) => validators?.has(key) ?? false),
    validators,
    counters: { relayed: 0, refused: 0, seq: 0 },
    log: (event) => {
      try {
        userLog(event);
      } catch {
        // A failing logger must not turn every refusal into an exception.
      }
    },
    heartbeatMs: options.heartbeatMs ?? SIGNAL_LIMITS.heartbeatMs,
    maxRoomSize: options.maxRoomSize ?? SIGNAL_LIMITS.maxRoomSize,
    joinTimeoutMs: options.joinTimeoutMs ?? SIGNAL_LIMITS.joinTimeoutMs,
    ratePerSecond: options.ratePerSecond ?? SIGNAL_LIMITS.ratePerSecond,
    burst: options.burst ?? SIGNAL_LIMITS.burst,
    room: options.room,
    ice: options.ice,
  };
}

function send(ws: WebSocket, message: ServerMessage): void {
  if (ws.readyState !== ws.OPEN) return;
  // A client that stops reading must not make the server hold what others send it without end.
  if (ws.bufferedAmount > MAX_BUFFERED_BYTES) return void ws.terminate();
  ws.send(JSON.stringify(message));
}

function broadcast(hub: Hub, room: string, except: string, message: ServerMessage): void {
  for (const m of hub.rooms.get(room)?.values() ?? []) if (m.peerId !== except) send(m.socket, message);
}

/** Starts a close handshake, and cuts the socket if the other side does not finish it soon. */
function closeSocket(ws: WebSocket, code: number, reason: string): void {
  ws.close(code, reason);
  setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
}

/** Takes `m` out of its room if it is still there; `leave` tells the others and frees its binding. */
function removeMember(hub: Hub, m: Member, leave: boolean): boolean {
  const room = hub.rooms.get(m.room);
  if (room?.get(m.peerId) !== m) return false;
  room.delete(m.peerId);
  if (room.size === 0) hub.rooms.delete(m.room);
  if (leave) {
    hub.bindings.release(bindingId(m.room, m.peerId));
    broadcast(hub, m.room, m.peerId, { type: 'peer-left', peerId: m.peerId });
  }
  return true;
}

const bindingId = (room: string, peerId: string): string => `${room}\0${peerId}`;

/**
 * In a full room, the member that makes way for a newcomer from `address`: the newest of the
 * address holding the most members, when the newcomer's address would still hold fewer than
 * that one after joining (so two addresses never evict each other back and forth).
 */
function fairnessVictim(room: Room, address: string): Member | undefined {
  const counts = new Map<string, number>();
  for (const m of room.values()) if (!m.reserved) counts.set(m.address, (counts.get(m.address) ?? 0) + 1);
  let top: string | undefined;
  for (const [a, n] of counts) if (top === undefined || n > (counts.get(top) ?? 0)) top = a;
  if (top === undefined || (counts.get(address) ?? 0) + 1 >= (counts.get(top) ?? 0)) return undefined;
  let newest: Member | undefined;
  for (const m of room.values()) if (!m.reserved && m.address === top && (!newest || m.seq > newest.seq)) newest = m;
  return newest;
}

/** Every connection on the endpoint, from the upgrade to its close. */
class Connection {
  member?: Member;
  private closed = false;
  private strikes = 0;
  private alive = true;
  /** A fresh nonce per connection: a signed join can be neither replayed nor moved elsewhere. */
  private readonly nonce = randomBytes(16).toString('hex');
  private readonly allow: TokenBucket;
  private readonly heartbeat: ReturnType<typeof setInterval>;
  private readonly joinDeadline: ReturnType<typeof setTimeout>;
  private iceRefresh?: ReturnType<typeof setInterval>;

  constructor(
    private readonly hub: Hub,
    private readonly ws: WebSocket,
    private readonly address: string,
    private readonly share: AddressShare,
  ) {
    this.allow = new TokenBucket(hub.ratePerSecond, hub.burst);
    send(ws, { type: 'hello', nonce: this.nonce });
    ws.on('pong', () => (this.alive = true));
    this.heartbeat = setInterval(() => this.beat(), hub.heartbeatMs);
    // An idle socket costs a descriptor and a place under the address's cap: join or go.
    this.joinDeadline = setTimeout(() => {
      if (!this.member) this.refuse('join-timeout', `no join within ${hub.joinTimeoutMs} ms`, true);
    }, hub.joinTimeoutMs);
    ws.on('message', (data: RawData, isBinary: boolean) => this.guarded(data, isBinary));
    ws.on('close', () => this.onClose());
  }

  /** Closes this connection; what it still has queued is ignored from now on. */
  shut(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    closeSocket(this.ws, code, reason);
  }

  private beat(): void {
    if (!this.alive) {
      this.hub.log({ event: 'signal-timeout', address: this.address, peerId: this.member?.peerId });
      this.ws.terminate();
      return;
    }
    this.alive = false;
    this.ws.ping();
  }

  private refuse(code: SignalErrorCode, message: string, close = false): void {
    this.hub.counters.refused++;
    this.hub.log({ event: 'signal-refused', code, message, address: this.address, peerId: this.member?.peerId });
    send(this.ws, { type: 'error', code, message });
    // A peer that keeps sending garbage is cut off; one bad message is only answered.
    if (close || ++this.strikes >= SIGNAL_LIMITS.maxStrikes) this.shut(1008, code);
  }

  /** The last resort: whatever goes wrong with one message costs its connection, never the process. */
  private guarded(data: RawData, isBinary: boolean): void {
    if (this.closed) return;
    try {
      this.onMessage(data, isBinary);
    } catch (err) {
      this.hub.log({ event: 'signal-error', address: this.address, peerId: this.member?.peerId, message: err instanceof Error ? err.message : String(err) });
      send(this.ws, { type: 'error', code: 'internal-error', message: 'the server failed handling that message' });
      this.shut(1011, 'internal-error');
    }
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    // The address's shares first: many connections of one address each within their own
    // rate still add up, and parsing their bytes is the work that starved /healthz.
    if (!this.share.bytes.take(bytes.length) || !this.share.messages.take())
      return this.refuse('address-limit', 'this address sends more than its share; slow down', true);
    if (!this.allow.take()) return this.refuse('rate-limited', 'too many messages; slow down', true);
    if (isBinary) return this.refuse('bad-message', 'binary frames are not part of the protocol');
    const parsed = parseClientMessage(bytes.toString('utf8'));
    if (!parsed.ok) return this.refuse('bad-message', parsed.error);
    const msg = parsed.message;
    if (msg.type === 'ping') return send(this.ws, { type: 'pong' });
    if (msg.type === 'join') return this.join(msg);
    this.relay(msg.to, msg.data);
  }

  private relay(to: string, data: Extract<ClientMessage, { type: 'signal' }>['data']): void {
    const member = this.member;
    if (!member) return this.refuse('not-joined', 'join a room first');
    const target = this.hub.rooms.get(member.room)?.get(to);
    if (!target) return this.refuse('unknown-peer', `no peer ${to} in room ${member.room}`);
    this.hub.counters.relayed++;
    send(target.socket, { type: 'signal', from: member.peerId, data });
  }

  private join(msg: JoinMessage): void {
    const hub = this.hub;
    if (this.member) return this.refuse('bad-message', 'already joined');
    // Before the signature check: verifying is the costly part of a join.
    if (!this.share.joins.take()) return this.refuse('address-limit', 'too many joins from this address; try again in a minute', true);
    if (hub.room !== undefined && msg.room !== hub.room)
      return this.refuse('wrong-room', `this server signals for run ${hub.room} only, not ${msg.room}`, true);
    const auth = msg.auth;
    if (!auth) return this.refuse('unsigned', "joins must be signed over this connection's nonce (the hello message)", true);
    if (!verifySignature(auth.scheme, fromHex(auth.publicKey), signedJoin(this.nonce, msg.room, msg.peerId), fromHex(auth.signature)))
      return this.refuse('bad-auth', 'the join signature does not verify for this connection', true);
    const privileged = hub.validators?.has(auth.publicKey) ?? false;
    if (msg.role === 'validator' && hub.validators && !privileged)
      return this.refuse('not-validator', "role validator is for the run's validator keys only", true);
    const id = bindingId(msg.room, msg.peerId);
    if (!this.mayHold(id, auth.publicKey, privileged)) return this.refuse('id-taken', `peer id ${msg.peerId} is bound to another key`, true);
    if (!hub.bindings.canBind(id)) return this.refuse('room-full', 'this server holds all the peer ids it can', true);
    const room = hub.rooms.get(msg.room) ?? new Map<string, Member>();
    const previous = room.get(msg.peerId);
    if (previous) this.replace(previous, auth.publicKey);
    const place = this.place(room, privileged);
    if (!place) return this.refuse('room-full', `room ${msg.room} has ${room.size} peers`, true);
    hub.bindings.bind(id, auth.publicKey);
    this.admit(msg, room, auth.publicKey, place === 'reserved');
  }

  /** Whether `key` may hold `id`: it is unbound or bound to `key`, or a validator reclaims it from a non-validator. */
  private mayHold(id: string, key: string, privileged: boolean): boolean {
    const holder = this.hub.bindings.holder(id);
    if (holder === undefined || holder === key) return true;
    return privileged && !(this.hub.validators?.has(holder) ?? false);
  }

  /** The same id joining again (a reconnect, or a validator reclaiming it): the new connection wins. */
  private replace(previous: Member, key: string): void {
    this.hub.log({ event: previous.key === key ? 'signal-replaced' : 'signal-takeover', room: previous.room, peerId: previous.peerId, address: this.address });
    removeMember(this.hub, previous, false);
    previous.shut(4000, 'replaced by a newer connection');
  }

  /** A place in `room`: a validator's reserved one, a free one, or one a crowding address gives up. */
  private place(room: Room, privileged: boolean): 'reserved' | 'regular' | undefined {
    let regular = 0;
    for (const m of room.values()) if (!m.reserved) regular++;
    if (privileged && room.size - regular < (this.hub.validators?.size ?? 0)) return 'reserved';
    if (regular < this.hub.maxRoomSize) return 'regular';
    const victim = fairnessVictim(room, this.share.key);
    if (!victim) return undefined;
    this.hub.log({ event: 'signal-evicted', room: victim.room, peerId: victim.peerId, address: victim.address, for: this.share.key });
    removeMember(this.hub, victim, true);
    victim.shut(4001, 'room full: making way for another address');
    return 'regular';
  }

  private admit(msg: JoinMessage, room: Room, key: string, reserved: boolean): void {
    const hub = this.hub;
    clearTimeout(this.joinDeadline);
    const ice = hub.ice;
    // First what can fail: a failure past this point would leave the room half-changed.
    const iceConfig = ice ? { ice: iceConfigFor(ice, msg.peerId) } : {};
    const member: Member = {
      socket: this.ws,
      peerId: msg.peerId,
      role: msg.role,
      room: msg.room,
      key,
      address: this.share.key,
      reserved,
      seq: hub.counters.seq++,
      shut: (code, reason) => this.shut(code, reason),
    };
    this.member = member;
    hub.rooms.set(msg.room, room);
    send(this.ws, {
      type: 'welcome',
      peerId: msg.peerId,
      peers: [...room.values()].map((m) => ({ peerId: m.peerId, role: m.role })),
      heartbeatMs: hub.heartbeatMs,
      ...iceConfig,
    });
    // Fresh credentials well before the old ones expire, so later dials still authenticate.
    if (ice?.settings.turn.length)
      this.iceRefresh = setInterval(
        () => send(this.ws, { type: 'ice', ice: iceConfigFor(ice, msg.peerId) }),
        500 * (ice.ttlSeconds ?? DEFAULT_TURN_TTL_SECONDS),
      );
    room.set(msg.peerId, member);
    broadcast(hub, msg.room, msg.peerId, { type: 'peer-joined', peerId: msg.peerId, role: msg.role });
    hub.log({
      event: 'signal-join',
      room: msg.room,
      peerId: msg.peerId,
      role: msg.role,
      address: this.address,
      roomSize: room.size,
      key: key.slice(0, 16),
      ...(reserved ? { reserved } : {}),
    });
  }

  private onClose(): void {
    this.closed = true;
    clearInterval(this.heartbeat);
    clearInterval(this.iceRefresh);
    clearTimeout(this.joinDeadline);
    const member = this.member;
    if (member && removeMember(this.hub, member, true)) this.hub.log({ event: 'signal-leave', room: member.room, peerId: member.peerId });
  }
}

/** A new WebSocket: counted against its address's connection cap, then served. */
function accept(hub: Hub, ws: WebSocket, address: string, share: AddressShare): void {
  ws.on('error', (err) => hub.log({ event: 'signal-socket-error', address, message: err.message }));
  new Connection(hub, ws, address, share);
}

/**
 * An upgrade from an address at its connection cap: refused with 429 before the handshake,
 * which is the cheapest answer there is (a flood of 600 handshakes, each answered over a
 * WebSocket of its own, stalled the event loop for a tenth of a second).
 */
function refuseUpgrade(hub: Hub, socket: Duplex, address: string): void {
  hub.counters.refused++;
  hub.log({ event: 'signal-refused', code: 'address-limit', message: 'connection cap', address });
  const body = `address-limit: this address has ${hub.addresses.limits.connections} connections open already`;
  socket.end(`HTTP/1.1 429 Too Many Requests\r\nconnection: close\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
  setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
}

/** Attaches the signaling endpoint to `server` (upgrade requests on `path` only). */
export function attachSignaling(server: Server, options: SignalingOptions = {}): SignalingServer {
  if (options.ice) iceConfigFor(options.ice, 'startup-check'); // a missing or weak secret fails at start, not per peer
  const path = options.path ?? '/signal';
  const hub = createHub(options);
  const wss = new WebSocketServer({ noServer: true, maxPayload: SIGNAL_LIMITS.maxMessageBytes });
  wss.on('error', (err) => hub.log({ event: 'signal-error', address: 'server', message: err.message }));

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    // A reset in the middle of a handshake is the client's business, not an uncaught error.
    socket.on('error', () => socket.destroy());
    if (requestPath(req.url) !== path) {
      socket.destroy();
      return;
    }
    const address = clientAddress(req, options.trustProxy);
    const share = hub.addresses.open(address);
    if (!share) return refuseUpgrade(hub, socket, address);
    // The share is the socket's while it is open, whether the handshake succeeds or not.
    socket.once('close', () => hub.addresses.close(share));
    try {
      wss.handleUpgrade(req, socket, head, (ws) => accept(hub, ws, address, share));
    } catch (err) {
      hub.log({ event: 'signal-error', address: req.socket.remoteAddress, message: err instanceof Error ? err.message : String(err) });
      socket.destroy();
    }
  };
  server.on('upgrade', onUpgrade);
  const sweep = setInterval(() => hub.addresses.sweep(), SWEEP_MS);
  sweep.unref();

  return {
    stats: () => ({
      rooms: hub.rooms.size,
      peers: [...hub.rooms.values()].reduce((n, r) => n + r.size, 0),
      relayed: hub.counters.relayed,
      refused: hub.counters.refused,
    }),
    close: () =>
      new Promise<void>((resolve) => {
        server.off('upgrade', onUpgrade);
        clearInterval(sweep);
        for (const c of wss.clients) c.terminate();
        wss.close(() => resolve());
      }),
  };
}
