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
  maxRoomSize: 512,
  heartbeatMs: 15_000,
} as const;

/**
 * Proof that the joining client holds a key: its signature over the server's nonce for this
 * connection, the room and the peer id (`signedJoin`). The server then lets no other key take
 * the id while this one is connected, so nobody can hijack a peer's introductions.
 */
export interface JoinAuth {
  scheme: number;
  publicKey: string;
  signature: string;
}

export type ClientMessage =
  | { type: 'join'; room: string; peerId: string; role: PeerRole; auth?: JoinAuth }
  | { type: 'signal'; to: string; data: SignalData }
  | { type: 'ping' };

/** What simple-peer emits on 'signal' (an offer, answer or ICE candidate), relayed opaque. */
export type SignalData = Record<string, unknown>;

export type SignalErrorCode = 'bad-message' | 'not-joined' | 'unknown-peer' | 'rate-limited' | 'room-full' | 'bad-auth' | 'id-taken' | 'wrong-room';

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

function parseJson(text: string): Parsed<Record<string, unknown>> {
  if (text.length > SIGNAL_LIMITS.maxMessageBytes) return { ok: false, error: `message of ${text.length} bytes exceeds ${SIGNAL_LIMITS.maxMessageBytes}` };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, error: 'not JSON' };
  }
  return isObject(value) ? { ok: true, message: value } : { ok: false, error: 'not a JSON object' };
}

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
      if (!isObject(a) || (a.scheme !== 1 && a.scheme !== 2) || typeof a.publicKey !== 'string' || !/^[0-9a-f]{64}$/.test(a.publicKey) || typeof a.signature !== 'string' || !/^[0-9a-f]{128}$/.test(a.signature)) {
        return { ok: false, error: 'auth must be {scheme: 1|2, publicKey: 64 hex, signature: 128 hex}' };
      }
      return { ok: true, message: { type: 'join', room: m.room, peerId: m.peerId, role: role as PeerRole, auth: { scheme: a.scheme, publicKey: a.publicKey, signature: a.signature } } };
    }
    case 'signal':
      if (typeof m.to !== 'string' || !ID.test(m.to)) return { ok: false, error: badId('to', m.to) };
      if (!isObject(m.data)) return { ok: false, error: 'signal data must be an object' };
      return { ok: true, message: { type: 'signal', to: m.to, data: m.data } };
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
      return { ok: true, message: { type: 'welcome', peerId: m.peerId, peers: peers.map((p) => ({ peerId: p.peerId, role: p.role })), heartbeatMs: m.heartbeatMs, ...(ice ? { ice } : {}) } };
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
    case 'signal':
      if (id(m.from) && isObject(m.data)) return { ok: true, message: { type: 'signal', from: m.from, data: m.data } };
      break;
    case 'pong':
      return { ok: true, message: { type: 'pong' } };
    case 'hello':
      if (typeof m.nonce === 'string' && /^[0-9a-f]{32}$/.test(m.nonce)) return { ok: true, message: { type: 'hello', nonce: m.nonce } };
      break;
    case 'error':
      if (typeof m.code === 'string' && typeof m.message === 'string') return { ok: true, message: { type: 'error', code: m.code as SignalErrorCode, message: m.message.slice(0, 500) } };
      break;
  }
  return { ok: false, error: `malformed ${JSON.stringify(m.type)?.slice(0, 40)} message` };
}
