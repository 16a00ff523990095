// The signaling server: a WebSocket rendezvous where peers of one run find each other and
// relay WebRTC offers, answers and ICE candidates. It holds no training state at all.
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { randomBytes } from 'node:crypto';
import { fromHex } from '../src/protocol/bytes';
import { verifySignature } from '../src/protocol/keys';
import { parseClientMessage, signedJoin, SIGNAL_LIMITS, type IceConfig, type PeerRole, type ServerMessage, type SignalErrorCode } from '../src/p2p/signalingProtocol';
import type { IceSettings } from '../src/swarm/runConfig';
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
  /** Messages per second a connection may sustain, and the burst it may spend at once. */
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
   * Behind a reverse proxy every connection comes from the proxy: log the client address the
   * proxy appended to X-Forwarded-For instead. Only the last entry is the proxy's own; earlier
   * ones are whatever the client sent.
   */
  trustProxy?: boolean;
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
  /** The key that signed the join (hex), if it was signed: only it may take this id over. */
  key?: string;
}

/** Token bucket: `rate` tokens a second up to `burst`; each message spends one. */
function rateLimiter(rate: number, burst: number): () => boolean {
  let tokens = burst;
  let last = Date.now();
  return () => {
    const now = Date.now();
    tokens = Math.min(burst, tokens + ((now - last) / 1000) * rate);
    last = now;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };
}

/** Who is connecting, for the log: the socket's peer, or with `trustProxy` the address the proxy saw. */
export function clientAddress(req: IncomingMessage, trustProxy = false): string {
  const forwarded = trustProxy ? String(req.headers['x-forwarded-for'] ?? '').split(',').at(-1)?.trim() : undefined;
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

/** Attaches the signaling endpoint to `server` (upgrade requests on `path` only). */
export function attachSignaling(server: Server, options: SignalingOptions = {}): SignalingServer {
  if (options.ice) iceConfigFor(options.ice, 'startup-check'); // a missing or weak secret fails at start, not per peer
  const path = options.path ?? '/signal';
  const log = options.log ?? (() => undefined);
  const wss = new WebSocketServer({ noServer: true, maxPayload: SIGNAL_LIMITS.maxMessageBytes });
  const rooms = new Map<string, Map<string, Member>>();
  const counters = { relayed: 0, refused: 0 };

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (new URL(req.url ?? '/', 'http://localhost').pathname !== path) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => accept(ws, clientAddress(req, options.trustProxy)));
  };
  server.on('upgrade', onUpgrade);

  const send = (ws: WebSocket, message: ServerMessage): void => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
  };
  const broadcast = (room: string, except: string, message: ServerMessage): void => {
    for (const m of rooms.get(room)?.values() ?? []) if (m.peerId !== except) send(m.socket, message);
  };

  function accept(ws: WebSocket, address: string): void {
    let member: Member | undefined;
    // A fresh nonce per connection: a signed join can be neither replayed nor moved elsewhere.
    const nonce = randomBytes(16).toString('hex');
    let iceRefresh: ReturnType<typeof setInterval> | undefined;
    let alive = true;
    let strikes = 0;
    const allow = rateLimiter(options.ratePerSecond ?? SIGNAL_LIMITS.ratePerSecond, options.burst ?? SIGNAL_LIMITS.burst);
    const refuse = (code: SignalErrorCode, message: string, close = false): void => {
      counters.refused++;
      log({ event: 'signal-refused', code, message, address, peerId: member?.peerId });
      send(ws, { type: 'error', code, message });
      // A peer that keeps sending garbage is cut off; one bad message is only answered.
      if (close || ++strikes >= SIGNAL_LIMITS.maxStrikes) ws.close(1008, code);
    };

    send(ws, { type: 'hello', nonce });
    ws.on('pong', () => (alive = true));
    const heartbeat = setInterval(() => {
      if (!alive) {
        log({ event: 'signal-timeout', address, peerId: member?.peerId });
        ws.terminate();
        return;
      }
      alive = false;
      ws.ping();
    }, options.heartbeatMs ?? SIGNAL_LIMITS.heartbeatMs);

    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (!allow()) return refuse('rate-limited', 'too many messages; slow down', true);
      if (isBinary) return refuse('bad-message', 'binary frames are not part of the protocol');
      const parsed = parseClientMessage(Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8'));
      if (!parsed.ok) return refuse('bad-message', parsed.error);
      const msg = parsed.message;
      if (msg.type === 'ping') return send(ws, { type: 'pong' });
      if (msg.type === 'join') {
        if (member) return refuse('bad-message', 'already joined');
        if (options.room !== undefined && msg.room !== options.room) return refuse('wrong-room', `this server signals for run ${options.room} only, not ${msg.room}`, true);
        const room = rooms.get(msg.room) ?? new Map<string, Member>();
        if (room.size >= SIGNAL_LIMITS.maxRoomSize) return refuse('room-full', `room ${msg.room} has ${room.size} peers`, true);
        const auth = msg.auth;
        if (auth && !verifySignature(auth.scheme, fromHex(auth.publicKey), signedJoin(nonce, msg.room, msg.peerId), fromHex(auth.signature))) return refuse('bad-auth', 'the join signature does not verify for this connection', true);
        const previous = room.get(msg.peerId);
        if (previous?.key !== undefined && previous.key !== auth?.publicKey) return refuse('id-taken', `peer id ${msg.peerId} is held by another key`, true);
        if (previous) {
          // The same peer reconnecting before its old socket timed out: the new one wins
          // (for an id bound to a key, only when the new join is signed by that key).
          log({ event: 'signal-replaced', room: msg.room, peerId: msg.peerId });
          previous.socket.close(4000, 'replaced by a newer connection');
          room.delete(msg.peerId);
        }
        member = { socket: ws, peerId: msg.peerId, role: msg.role, room: msg.room, key: auth?.publicKey };
        rooms.set(msg.room, room);
        const ice = options.ice;
        send(ws, { type: 'welcome', peerId: msg.peerId, peers: [...room.values()].map((m) => ({ peerId: m.peerId, role: m.role })), heartbeatMs: options.heartbeatMs ?? SIGNAL_LIMITS.heartbeatMs, ...(ice ? { ice: iceConfigFor(ice, msg.peerId) } : {}) });
        // Fresh credentials well before the old ones expire, so later dials still authenticate.
        if (ice?.settings.turn.length) iceRefresh = setInterval(() => send(ws, { type: 'ice', ice: iceConfigFor(ice, msg.peerId) }), (500 * (ice.ttlSeconds ?? DEFAULT_TURN_TTL_SECONDS)));
        room.set(msg.peerId, member);
        broadcast(msg.room, msg.peerId, { type: 'peer-joined', peerId: msg.peerId, role: msg.role });
        log({ event: 'signal-join', room: msg.room, peerId: msg.peerId, role: msg.role, address, roomSize: room.size, ...(auth ? { key: auth.publicKey.slice(0, 16) } : {}) });
        return;
      }
      if (!member) return refuse('not-joined', 'join a room first');
      const target = rooms.get(member.room)?.get(msg.to);
      if (!target) return refuse('unknown-peer', `no peer ${msg.to} in room ${member.room}`);
      counters.relayed++;
      send(target.socket, { type: 'signal', from: member.peerId, data: msg.data });
    });

    ws.on('close', () => {
      clearInterval(heartbeat);
      clearInterval(iceRefresh);
      if (!member) return;
      const room = rooms.get(member.room);
      if (room?.get(member.peerId) === member) {
        room.delete(member.peerId);
        if (room.size === 0) rooms.delete(member.room);
        broadcast(member.room, member.peerId, { type: 'peer-left', peerId: member.peerId });
        log({ event: 'signal-leave', room: member.room, peerId: member.peerId });
      }
    });
    ws.on('error', (err) => log({ event: 'signal-socket-error', address, message: err.message }));
  }

  return {
    stats: () => ({ rooms: rooms.size, peers: [...rooms.values()].reduce((n, r) => n + r.size, 0), ...counters }),
    close: () =>
      new Promise<void>((resolve) => {
        server.off('upgrade', onUpgrade);
        for (const c of wss.clients) c.terminate();
        wss.close(() => resolve());
      }),
  };
}
