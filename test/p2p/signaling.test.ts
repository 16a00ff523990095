// The signaling server and client over real WebSockets on loopback: rooms, introductions,
// relaying, caps on size, rate and garbage, and clients that ride out a server restart.
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { attachSignaling, type SignalingServer } from '../../server/signaling';
import { SignalingClient, type SocketLike } from '../../src/p2p/signalingClient';
import { parseServerMessage, signedJoin, SIGNAL_LIMITS } from '../../src/p2p/signalingProtocol';
import { toHex } from '../../src/protocol/bytes';
import { ed25519Signer, randomSigner } from '../../src/protocol/keys';
import { joinMessage } from '../support/rawSignal';

const socket = (url: string): SocketLike => new WebSocket(url) as unknown as SocketLike;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startServer(
  port = 0,
  options: Parameters<typeof attachSignaling>[1] = {},
): Promise<{ server: Server; signaling: SignalingServer; url: string; port: number; stop(): Promise<void> }> {
  const server = createServer((_, res) => res.end('ok'));
  const signaling = attachSignaling(server, options);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const actual = (server.address() as AddressInfo).port;
  let stopped: Promise<void> | undefined;
  // Registered for cleanup at once, and idempotent: a test that fails before it stops (or
  // restarts) its server leaves nothing listening.
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      await signaling.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    })());
  cleanups.push(stop);
  return { server, signaling, url: `ws://127.0.0.1:${actual}/signal`, port: actual, stop };
}

function client(url: string, peerId: string, room = 'run-1'): SignalingClient {
  const c = new SignalingClient({ url, room, peerId, socket, signer: randomSigner(), initialBackoffMs: 50, maxBackoffMs: 400 });
  cleanups.push(() => c.close());
  return c;
}

const once = <T>(register: (resolve: (v: T) => void) => void, ms = 5000): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('timed out')), ms);
    register((v) => {
      clearTimeout(t);
      resolve(v);
    });
  });

/** A raw socket speaking the protocol by hand, to send what a real client never would. */
async function raw(url: string): Promise<{ ws: WebSocket; messages: Record<string, unknown>[]; hellos: string[]; closed: Promise<number> }> {
  const ws = new WebSocket(url);
  const messages: Record<string, unknown>[] = [];
  const hellos: string[] = [];
  // The server's 'hello' (its nonce for signed joins) opens every connection; kept apart.
  ws.on('message', (d: Buffer) => {
    const m = JSON.parse(d.toString()) as Record<string, unknown>;
    if (m.type === 'hello') hellos.push(m.nonce as string);
    else messages.push(m);
  });
  const closed = new Promise<number>((resolve) => ws.on('close', (code: number) => resolve(code)));
  await new Promise((resolve) => ws.on('open', resolve));
  cleanups.push(() => ws.terminate());
  return { ws, messages, hellos, closed };
}

const until = async (check: () => boolean, ms = 5000): Promise<void> => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('signaling', () => {
  it('introduces peers of a room to each other, relays signals, and reports leavers', async () => {
    const s = await startServer();
    const a = client(s.url, 'alice');
    const welcomeA = await once<{ peerId: string }[]>((r) => a.on('welcome', r));
    expect(welcomeA).toEqual([]);
    const joined = once<string>((r) => a.on('peer-joined', r));
    const b = client(s.url, 'bob');
    const welcomeB = await once<{ peerId: string; role: string }[]>((r) => b.on('welcome', r));
    expect(welcomeB).toEqual([{ peerId: 'alice', role: 'peer' }]);
    expect(await joined).toBe('bob');
    const other = client(s.url, 'carol', 'run-2');
    expect(await once<unknown[]>((r) => other.on('welcome', r))).toEqual([]); // rooms are separate

    const got = once<[string, Record<string, unknown>]>((r) => b.on('signal', (from, data) => r([from, data])));
    expect(a.send('bob', { type: 'offer', sdp: 'v=0' })).toBe(true);
    expect(await got).toEqual(['alice', { type: 'offer', sdp: 'v=0' }]);
    expect(s.signaling.stats()).toMatchObject({ rooms: 2, peers: 3, relayed: 1 });

    const left = once<string>((r) => a.on('peer-left', r));
    b.close();
    expect(await left).toBe('bob');
  });

  it('answers malformed messages with a typed error and cuts off persistent offenders', async () => {
    const s = await startServer();
    const r = await raw(s.url);
    r.ws.send('not json');
    r.ws.send(JSON.stringify({ type: 'signal', to: 'bob', data: { type: 'renegotiate', renegotiate: true } }));
    r.ws.send(JSON.stringify({ type: 'join', room: 'bad room!', peerId: 'x' }));
    await until(() => r.messages.length === 3);
    expect(r.messages.map((m) => m.code)).toEqual(['bad-message', 'not-joined', 'bad-message']);
    expect(String(r.messages[2].message)).toMatch(/room must match/);
    for (let i = 0; i < SIGNAL_LIMITS.maxStrikes; i++) r.ws.send('{}');
    expect(await r.closed).toBe(1008);
    expect(s.signaling.stats().refused).toBeGreaterThanOrEqual(SIGNAL_LIMITS.maxStrikes);
  });

  it('closes connections that send oversized messages or flood', async () => {
    const s = await startServer(0, { ratePerSecond: 5, burst: 10 });
    const big = await raw(s.url);
    big.ws.send(JSON.stringify({ type: 'ping', pad: 'x'.repeat(SIGNAL_LIMITS.maxMessageBytes) }));
    expect(await big.closed).toBe(1009); // ws: message too big
    const flood = await raw(s.url);
    for (let i = 0; i < 30; i++) flood.ws.send(JSON.stringify({ type: 'ping' }));
    expect(await flood.closed).toBe(1008);
    expect(flood.messages.some((m) => m.code === 'rate-limited')).toBe(true);
    expect(flood.messages.filter((m) => m.type === 'pong').length).toBe(10);
  });

  it('clients reconnect and rejoin after the server restarts on the same port', async () => {
    let s = await startServer();
    const a = client(s.url, 'alice');
    const b = client(s.url, 'bob');
    await once((r) => b.on('welcome', r));
    await until(() => a.connectionState === 'open');
    const states: string[] = [];
    a.on('state', (st) => states.push(st));
    await s.stop();
    await until(() => a.connectionState === 'reconnecting' && b.connectionState === 'reconnecting');
    s = await startServer(s.port);
    await until(() => a.connectionState === 'open' && b.connectionState === 'open', 10_000);
    expect(states).toEqual(['reconnecting', 'open']);
    expect(s.signaling.stats().peers).toBe(2);
    const got = once<string>((r) => a.on('signal', (from) => r(from)));
    b.send('alice', { type: 'candidate', candidate: { candidate: 'candidate:1 1 udp 1 10.0.0.1 9 typ host', sdpMLineIndex: 0, sdpMid: '0' } });
    expect(await got).toBe('bob');
  });

  it('a newer connection with the same peer id replaces the old one', async () => {
    const s = await startServer();
    const key = randomSigner();
    const first = await raw(s.url);
    await until(() => first.hellos.length === 1);
    first.ws.send(joinMessage(first.hellos[0], 'r', 'p', key));
    await until(() => first.messages.length === 1);
    const second = await raw(s.url);
    await until(() => second.hellos.length === 1);
    second.ws.send(joinMessage(second.hellos[0], 'r', 'p', key));
    expect(await first.closed).toBe(4000);
    await until(() => second.messages.length === 1);
    expect(second.messages[0]).toMatchObject({ type: 'welcome', peers: [] });
    expect(s.signaling.stats().peers).toBe(1);
  });

  it('refuses upgrades on other paths', async () => {
    const s = await startServer();
    const ws = new WebSocket(s.url.replace('/signal', '/other'));
    const failed = await new Promise<boolean>((resolve) => {
      ws.on('error', () => resolve(true));
      ws.on('open', () => resolve(false));
    });
    expect(failed).toBe(true);
  });

  it("hands each joining peer the run's ICE servers with its own TURN credential, and renews it before expiry", async () => {
    const secret = 'a-shared-turn-secret-0123456789';
    const settings = { stun: ['stun:10.0.0.2:3478'], turn: ['turn:10.0.0.2:3478?transport=udp'], relayOnly: true };
    const s = await startServer(0, { ice: { settings, turnSecret: secret, ttlSeconds: 2 } });
    const a = client(s.url, 'alice');
    await once((r) => a.on('welcome', r));
    const first = a.ice;
    expect(first).toMatchObject({ relayOnly: true, iceServers: [{ urls: settings.stun }, { urls: settings.turn }] });
    const turn = first?.iceServers[1];
    // coturn's use-auth-secret check: username "<expiry>:<user>", password base64(HMAC-SHA1(secret, username)).
    const [expiry, user] = (turn?.username ?? '').split(':');
    expect(user).toBe('alice');
    expect(Number(expiry) * 1000).toBe(first?.expiresAt);
    expect(Math.abs(Number(expiry) - (Date.now() / 1000 + 2))).toBeLessThan(2);
    expect(turn?.credential).toBe(
      createHmac('sha1', secret)
        .update(turn?.username ?? '')
        .digest('base64'),
    );
    // Re-issued at half the lifetime: a later expiry, and a credential coturn would accept.
    await until(() => (a.ice?.expiresAt ?? 0) > (first?.expiresAt ?? 0), 4000);
    const renewed = a.ice?.iceServers[1];
    const [renewedExpiry, renewedUser] = (renewed?.username ?? '').split(':');
    expect(renewedUser).toBe('alice');
    expect(Number(renewedExpiry)).toBeGreaterThan(Number(expiry));
    expect(Number(renewedExpiry) * 1000).toBe(a.ice?.expiresAt);
    expect(renewed?.credential).toBe(
      createHmac('sha1', secret)
        .update(renewed?.username ?? '')
        .digest('base64'),
    );
  });

  it('forgets the ICE servers of a previous server when the one it reconnects to sends none', async () => {
    const settings = { stun: ['stun:10.0.0.2:3478'], turn: ['turn:10.0.0.2:3478'], relayOnly: true };
    let s = await startServer(0, { ice: { settings, turnSecret: 'a-shared-turn-secret-0123456789' } });
    const a = client(s.url, 'alice');
    await until(() => a.connectionState === 'open');
    expect(a.ice?.iceServers[1]).toMatchObject({ urls: settings.turn, username: expect.stringMatching(/:alice$/) });
    await s.stop();
    await until(() => a.connectionState === 'reconnecting');
    s = await startServer(s.port); // a bare server, as `tessera signal` runs
    await until(() => a.connectionState === 'open', 10_000);
    expect(a.ice).toBeUndefined();
  });

  it("a server for one run lets only that run's room be joined, so its TURN credentials serve that run only", async () => {
    const settings = { stun: [], turn: ['turn:10.0.0.2:3478'], relayOnly: true };
    const s = await startServer(0, { room: 'run-1', ice: { settings, turnSecret: 'a-shared-turn-secret-0123456789' } });
    const stranger = await raw(s.url);
    stranger.ws.send(JSON.stringify({ type: 'join', room: 'my-own-relay', peerId: 'x' }));
    await until(() => stranger.messages.length > 0);
    expect(stranger.messages).toEqual([{ type: 'error', code: 'wrong-room', message: 'this server signals for run run-1 only, not my-own-relay' }]);
    expect(await stranger.closed).toBe(1008);
    // The client reports the typed refusal (tessera peer/validator log it).
    const other = client(s.url, 'carol', 'run-2');
    expect(await once<string>((r) => other.on('problem', r))).toBe('signaling server refused: wrong-room: this server signals for run run-1 only, not run-2');
    expect(other.ice).toBeUndefined();
    const member = client(s.url, 'alice', 'run-1');
    await until(() => member.connectionState === 'open');
    expect(member.ice?.iceServers[0].username).toMatch(/:alice$/);
    expect(s.signaling.stats()).toMatchObject({ rooms: 1, peers: 1 });
  });

  it("logs the address a trusted proxy appended to X-Forwarded-For, and the socket's otherwise", async () => {
    const joins = async (trustProxy: boolean): Promise<unknown> => {
      const events: Record<string, unknown>[] = [];
      const s = await startServer(0, { trustProxy, log: (e) => events.push(e) });
      // The client wrote the first entry itself; the proxy appended the address it saw.
      const ws = new WebSocket(s.url, { headers: { 'X-Forwarded-For': '198.51.100.7, 203.0.113.9' } });
      cleanups.push(() => ws.terminate());
      ws.on('message', (d: Buffer) => {
        const m = JSON.parse(d.toString()) as { type: string; nonce: string };
        if (m.type === 'hello') ws.send(joinMessage(m.nonce, 'r', 'p', randomSigner()));
      });
      await until(() => events.some((e) => e.event === 'signal-join'));
      return events.find((e) => e.event === 'signal-join')?.address;
    };
    expect(await joins(true)).toBe('203.0.113.9');
    expect(await joins(false)).toBe('127.0.0.1');
  });

  it('refuses to start with TURN servers but no usable secret, and clients drop malformed ICE offers', async () => {
    const settings = { stun: [], turn: ['turn:10.0.0.2'], relayOnly: false };
    expect(() => attachSignaling(createServer(), { ice: { settings } })).toThrow(/no TURN secret/);
    expect(() => attachSignaling(createServer(), { ice: { settings, turnSecret: 'short' } })).toThrow(/at least 16 characters/);
    const welcome = (ice: unknown): string => JSON.stringify({ type: 'welcome', peerId: 'a', peers: [], heartbeatMs: 1000, ice });
    const good = { iceServers: [{ urls: ['turn:10.0.0.2:3478'], username: '1:a', credential: 'x' }], relayOnly: true, expiresAt: 1000 };
    expect(parseServerMessage(welcome(good))).toMatchObject({ ok: true, message: { ice: good } });
    for (const bad of [
      { ...good, iceServers: [{ urls: ['http://evil.example/'] }] },
      { ...good, iceServers: [{ urls: ['turn:a b'] }] },
      { ...good, iceServers: Array(9).fill({ urls: ['stun:a'] }) },
      { ...good, iceServers: [{ urls: ['turn:a'], username: 'u'.repeat(300), credential: 'c' }] },
      { ...good, relayOnly: 'yes' },
      { ...good, expiresAt: 'soon' },
    ]) {
      expect(parseServerMessage(welcome(bad)).ok, JSON.stringify(bad).slice(0, 80)).toBe(false);
      expect(parseServerMessage(JSON.stringify({ type: 'ice', ice: bad })).ok).toBe(false);
    }
  });

  it('binds a peer id to its key: no other key and no replayed signature takes it over, and unsigned joins are refused', async () => {
    const s = await startServer();
    const alice = ed25519Signer(new Uint8Array(32).fill(21));
    const mallory = ed25519Signer(new Uint8Array(32).fill(22));
    const a = new SignalingClient({ url: s.url, room: 'r', peerId: 'alice', socket, signer: alice, initialBackoffMs: 50 });
    cleanups.push(() => a.close());
    await once((r) => a.on('welcome', r));
    const join = (ws: WebSocket, extra: Record<string, unknown> = {}): void => ws.send(JSON.stringify({ type: 'join', room: 'r', peerId: 'alice', ...extra }));
    const auth = (signer: typeof alice, nonce: string): Record<string, unknown> => ({
      auth: { scheme: signer.scheme, publicKey: toHex(signer.publicKey), signature: toHex(signer.sign(signedJoin(nonce, 'r', 'alice'))) },
    });

    const unsigned = await raw(s.url);
    join(unsigned.ws);
    expect(await unsigned.closed).toBe(1008);
    expect(unsigned.messages.at(-1)).toMatchObject({ type: 'error', code: 'unsigned' });

    const otherKey = await raw(s.url);
    await until(() => otherKey.hellos.length === 1);
    join(otherKey.ws, auth(mallory, otherKey.hellos[0]));
    expect(await otherKey.closed).toBe(1008);
    expect(otherKey.messages.at(-1)).toMatchObject({ type: 'error', code: 'id-taken' });

    // Alice's key over another connection's nonce (a replay) does not verify here.
    const replay = await raw(s.url);
    const elsewhere = await raw(s.url);
    await until(() => replay.hellos.length === 1 && elsewhere.hellos.length === 1);
    join(replay.ws, auth(alice, elsewhere.hellos[0]));
    expect(await replay.closed).toBe(1008);
    expect(replay.messages.at(-1)).toMatchObject({ type: 'error', code: 'bad-auth' });
    expect(a.connectionState).toBe('open');
    expect(s.signaling.stats().peers).toBe(1);

    // The same key reconnecting (a new tab of the same browser) replaces the old connection.
    const again = await raw(s.url);
    await until(() => again.hellos.length === 1);
    join(again.ws, auth(alice, again.hellos[0]));
    await until(() => again.messages.length === 1);
    expect(again.messages[0]).toMatchObject({ type: 'welcome', peerId: 'alice' });
  });
});
