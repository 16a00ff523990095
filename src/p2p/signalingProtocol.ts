// Messages between peers and the signaling server (JSON text frames), their limits, and the
// validation both sides run before using one: a bad message is reported, never trusted.

export type PeerRole = 'peer' | 'validator' | 'observer';

export const SIGNAL_LIMITS = {
  /** Largest WebSocket message either side accepts (an SDP offer is a few KiB). */
  maxMessageBytes: 64 * 1024,
  ratePerSecond: 50,
  burst: 200,
  /** Malformed messages tolerated before the connection is closed. */
  maxStrikes: 5,
  /** Members of one room (validators listed in the server's validatorKeys get places beyond it). */
  maxRoomSize: 512,
  heartbeatMs: 15_000,
  /**
   * Deepest nesting of arrays and objects in a message. Ours need 4; a hostile one nested
   * thousands deep once overflowed the stack in JSON.stringify and took the server down.
   */
  maxJsonDepth: 8,
  /** A connection that has not joined by then is closed: idle sockets cost a descriptor each. */
  joinTimeoutMs: 5000,
  /** Peer ids remembered with the key that first joined with them, for the server's lifetime. */
  maxKeyBindings: 100_000,
  /**
   * Shares of one remote address (an IPv4 address, or an IPv6 /64), across all its
   * connections, so that one machine cannot crowd the server out for everyone else.
   */
  perAddress: {
    connections: 32,
    joinsPerMinute: 60,
    messagesPerSecond: 200,
    messageBurst: 1000,
    bytesPerSecond: 256 * 1024,
    byteBurst: 1024 * 1024,
  },
  /** simple-peer's signals: SDP, one ICE candidate line and its fields. */
  maxSdpBytes: 32 * 1024,
  maxCandidateBytes: 1024,
  maxSdpMidBytes: 64,
  maxUsernameFragmentBytes: 256,
} as const;

export type AddressLimits = { [K in keyof typeof SIGNAL_LIMITS.perAddress]: number };

/**
 * Proof that the joining client holds a key: its signature over the server's nonce for this
 * connection, the room and the peer id (`signedJoin`). Every join must carry one. The server
 * binds the id to the key for its lifetime, so nobody can hijack a peer's introductions, not
 * even after the peer's socket dropped.
 */
export interface JoinAuth {
  scheme: number;
  publicKey: string;
  signature: string;
}

export type ClientMessage =
  { type: 'join'; room: string; peerId: string; role: PeerRole; auth?: JoinAuth } | { type: 'signal'; to: string; data: SignalData } | { type: 'ping' };

/** One ICE candidate as simple-peer 9 sends it (RTCIceCandidateInit's fields). */
export interface IceCandidateSignal {
  candidate: string;
  sdpMLineIndex: number | null;
  sdpMid: string | null;
  usernameFragment?: string;
}

/**
 * What simple-peer 9.11 emits on 'signal' for data channels: an offer or answer, one trickled
 * ICE candidate, or the answerer's request to renegotiate. Nothing else is relayed (its
 * transceiverRequest is for media tracks, which the swarm never adds).
 */
export type SignalData =
  { type: 'offer' | 'answer'; sdp: string } | { type: 'candidate'; candidate: IceCandidateSignal } | { type: 'renegotiate'; renegotiate: true };

export type SignalErrorCode =
  | 'bad-message'
  | 'not-joined'
  | 'unknown-peer'
  | 'rate-limited'
  | 'room-full'
  | 'bad-auth'
  | 'id-taken'
  | 'wrong-room'
  /** The join carried no signature. */
  | 'unsigned'
  /** role 'validator' from a key that is not one of the run's validator keys. */
  | 'not-validator'
  /** The remote address used up its share: connections, joins, messages or bytes. */
  | 'address-limit'
  /** The connection did not join within the server's join deadline. */
  | 'join-timeout'
  /** The server failed handling this connection's message; the connection is closed, nothing else. */
  | 'internal-error';

const JOIN_DOMAIN = 'tessera/signal-join/v1';

/** The bytes a join's signature covers: a domain tag, then the nonce, room and peer id. */
export function signedJoin(nonce: string, room: string, peerId: string): Uint8Array {
  return new TextEncoder().encode([JOIN_DOMAIN, nonce, room, peerId].join('\0'));
}

/** One STUN/TURN server as RTCConfiguration takes it; TURN ones carry short-lived credentials. */
export interface IceServer {
  urls: string[];
  username?: string;
  credential?: string;
}

/**
 * The ICE servers a peer should use, from the signaling server (which alone knows the TURN
 * secret): sent with the welcome and again before the credentials expire.
 */
export interface IceConfig {
  iceServers: IceServer[];
  /** iceTransportPolicy 'relay': every connection goes through TURN. */
  relayOnly: boolean;
  /** When the TURN credentials stop working (ms since the epoch); null without TURN. */
  expiresAt: number | null;
}

export type ServerMessage =
  | { type: 'hello'; nonce: string }
  | { type: 'welcome'; peerId: string; peers: { peerId: string; role: PeerRole }[]; heartbeatMs: number; ice?: IceConfig }
  | { type: 'ice'; ice: IceConfig }
  | { type: 'peer-joined'; peerId: string; role: PeerRole }
  | { type: 'peer-left'; peerId: string }
  | { type: 'signal'; from: string; data: SignalData }
  | { type: 'pong' }
  | { type: 'error'; code: SignalErrorCode; message: string };

export type Parsed<T> = { ok: true; message: T } | { ok: false; error: string };

/** Room (run id) and peer ids: short, printable, no separators that could confuse logs. */
const ID = /^[A-Za-z0-9._:-]{1,128}$/;
const ROLES: readonly PeerRole[] = ['peer', 'validator', 'observer'];

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/**
 * Whether `text`'s arrays and objects nest at most `max` deep, by one linear scan that skips
 * strings: checked before JSON.parse, so that nothing recursive ever sees a deep value.
 */
export function jsonDepthWithin(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: the next character is escaped, even a quote
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return false;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return true;
}

function parseJson(text: string): Parsed<Record<string, unknown>> {
  if (text.length > SIGNAL_LIMITS.maxMessageBytes) return { ok: false, error: `message of ${text.length} bytes exceeds ${SIGNAL_LIMITS.maxMessageBytes}` };
  if (!jsonDepthWithin(text, SIGNAL_LIMITS.maxJsonDepth)) return { ok: false, error: `message nested deeper than ${SIGNAL_LIMITS.maxJsonDepth}` };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, error: 'not JSON' };
  }
  return isObject(value) ? { ok: true, message: value } : { ok: false, error: 'not a JSON object' };
}

const bounded = (v: unknown, max: number): v is string => typeof v === 'string' && v.length <= max;
const nullable = <T>(v: unknown, ok: (x: unknown) => x is T): v is T | null => v === null || ok(v);
const mLineIndex = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 1023;

function parseCandidate(c: unknown): IceCandidateSignal | null {
  const L = SIGNAL_LIMITS;
  if (!isObject(c) || !bounded(c.candidate, L.maxCandidateBytes)) return null;
  if (!nullable(c.sdpMLineIndex, mLineIndex) || !nullable(c.sdpMid, (x): x is string => bounded(x, L.maxSdpMidBytes))) return null;
  // RTCIceCandidate's constructor throws when both are null, synchronously inside simple-peer.
  if (c.sdpMLineIndex === null && c.sdpMid === null) return null;
  if (c.usernameFragment !== undefined && c.usernameFragment !== null && !bounded(c.usernameFragment, L.maxUsernameFragmentBytes)) return null;
  const ufrag = typeof c.usernameFragment === 'string' ? { usernameFragment: c.usernameFragment } : {};
  return { candidate: c.candidate, sdpMLineIndex: c.sdpMLineIndex, sdpMid: c.sdpMid, ...ufrag };
}

/**
 * A signal payload in one of simple-peer's shapes, rebuilt from its checked fields (so no
 * extra field, prototype trick or deep value is ever passed on), or null for anything else.
 */
export function parseSignalData(v: unknown): SignalData | null {
  if (!isObject(v)) return null;
  switch (v.type) {
    case 'offer':
    case 'answer':
      return typeof v.sdp === 'string' && v.sdp.length > 0 && v.sdp.length <= SIGNAL_LIMITS.maxSdpBytes ? { type: v.type, sdp: v.sdp } : null;
    case 'candidate': {
      const candidate = parseCandidate(v.candidate);
      return candidate ? { type: 'candidate', candidate } : null;
    }
    case 'renegotiate':
      return v.renegotiate === true ? { type: 'renegotiate', renegotiate: true } : null;
    default:
      return null;
  }
}

const SIGNAL_SHAPES =
  'signal data must be {type: offer|answer, sdp}, {type: candidate, candidate: {candidate, sdpMLineIndex, sdpMid}} or {type: renegotiate, renegotiate: true}';

const badId = (what: string, v: unknown): string => `${what} must match ${ID.source}, got ${JSON.stringify(v)?.slice(0, 80)}`;

export function parseClientMessage(text: string): Parsed<ClientMessage> {
  const json = parseJson(text);
  if (!json.ok) return json;
  const m = json.message;
  switch (m.type) {
    case 'ping':
      return { ok: true, message: { type: 'ping' } };
    case 'join': {
      if (typeof m.room !== 'string' || !ID.test(m.room)) return { ok: false, error: badId('room', m.room) };
      if (typeof m.peerId !== 'string' || !ID.test(m.peerId)) return { ok: false, error: badId('peerId', m.peerId) };
      const role = m.role ?? 'peer';
      if (!ROLES.includes(role as PeerRole)) return { ok: false, error: `role must be one of ${ROLES.join(', ')}` };
      if (m.auth === undefined) return { ok: true, message: { type: 'join', room: m.room, peerId: m.peerId, role: role as PeerRole } };
      const a = m.auth as Record<string, unknown>;
      if (
        !isObject(a) ||
        (a.scheme !== 1 && a.scheme !== 2) ||
        typeof a.publicKey !== 'string' ||
        !/^[0-9a-f]{64}$/.test(a.publicKey) ||
        typeof a.signature !== 'string' ||
        !/^[0-9a-f]{128}$/.test(a.signature)
      ) {
        return { ok: false, error: 'auth must be {scheme: 1|2, publicKey: 64 hex, signature: 128 hex}' };
      }
      return {
        ok: true,
        message: {
          type: 'join',
          room: m.room,
          peerId: m.peerId,
          role: role as PeerRole,
          auth: { scheme: a.scheme, publicKey: a.publicKey, signature: a.signature },
        },
      };
    }
    case 'signal': {
      if (typeof m.to !== 'string' || !ID.test(m.to)) return { ok: false, error: badId('to', m.to) };
      const data = parseSignalData(m.data);
      return data ? { ok: true, message: { type: 'signal', to: m.to, data } } : { ok: false, error: SIGNAL_SHAPES };
    }
    default:
      return { ok: false, error: `unknown message type ${JSON.stringify(m.type)?.slice(0, 40)}` };
  }
}

const ICE_URL = /^(stun|turn|turns):[A-Za-z0-9.\-:[\]]{1,200}(\?transport=(udp|tcp))?$/;
const short = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 256;

/** An ICE configuration from the server, or null if any part is malformed (it is used whole or not at all). */
function parseIceConfig(v: unknown): IceConfig | null {
  if (!isObject(v) || !Array.isArray(v.iceServers) || v.iceServers.length > 8 || typeof v.relayOnly !== 'boolean') return null;
  if (!(v.expiresAt === null || (typeof v.expiresAt === 'number' && Number.isFinite(v.expiresAt)))) return null;
  const servers: IceServer[] = [];
  for (const s of v.iceServers) {
    if (!isObject(s) || !Array.isArray(s.urls) || s.urls.length === 0 || s.urls.length > 8) return null;
    if (!s.urls.every((u) => typeof u === 'string' && ICE_URL.test(u))) return null;
    if ((s.username !== undefined && !short(s.username)) || (s.credential !== undefined && !short(s.credential))) return null;
    servers.push({ urls: s.urls as string[], ...(s.username !== undefined ? { username: s.username as string, credential: s.credential as string } : {}) });
  }
  return { iceServers: servers, relayOnly: v.relayOnly, expiresAt: v.expiresAt as number | null };
}

export function parseServerMessage(text: string): Parsed<ServerMessage> {
  const json = parseJson(text);
  if (!json.ok) return json;
  const m = json.message;
  const id = (v: unknown): v is string => typeof v === 'string' && ID.test(v);
  const role = (v: unknown): v is PeerRole => ROLES.includes(v as PeerRole);
  switch (m.type) {
    case 'welcome': {
      if (!id(m.peerId) || !Array.isArray(m.peers) || typeof m.heartbeatMs !== 'number' || !(m.heartbeatMs > 0)) break;
      const peers = m.peers.filter((p): p is { peerId: string; role: PeerRole } => isObject(p) && id(p.peerId) && role(p.role));
      if (peers.length !== m.peers.length) break;
      const ice = m.ice === undefined ? undefined : parseIceConfig(m.ice);
      if (ice === null) break;
      return {
        ok: true,
        message: {
          type: 'welcome',
          peerId: m.peerId,
          peers: peers.map((p) => ({ peerId: p.peerId, role: p.role })),
          heartbeatMs: m.heartbeatMs,
          ...(ice ? { ice } : {}),
        },
      };
    }
    case 'ice': {
      const ice = parseIceConfig(m.ice);
      if (ice) return { ok: true, message: { type: 'ice', ice } };
      break;
    }
    case 'peer-joined':
      if (id(m.peerId) && role(m.role)) return { ok: true, message: { type: 'peer-joined', peerId: m.peerId, role: m.role } };
      break;
    case 'peer-left':
      if (id(m.peerId)) return { ok: true, message: { type: 'peer-left', peerId: m.peerId } };
      break;
    case 'signal': {
      // The same shapes the server relays: a compromised or buggy server gets no further.
      const data = parseSignalData(m.data);
      if (id(m.from) && data) return { ok: true, message: { type: 'signal', from: m.from, data } };
      break;
    }
    case 'pong':
      return { ok: true, message: { type: 'pong' } };
    case 'hello':
      if (typeof m.nonce === 'string' && /^[0-9a-f]{32}$/.test(m.nonce)) return { ok: true, message: { type: 'hello', nonce: m.nonce } };
      break;
    case 'error':
      if (typeof m.code === 'string' && typeof m.message === 'string')
        return { ok: true, message: { type: 'error', code: m.code.slice(0, 40) as SignalErrorCode, message: m.message.slice(0, 500) } };
      break;
  }
  return { ok: false, error: `malformed ${JSON.stringify(m.type)?.slice(0, 40)} message` };
}
