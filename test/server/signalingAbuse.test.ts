// The signaling server against hostile clients (issue 23's findings, one regression test each),
// its signal schema, and a fast run of the abuse harness against a real `tessera serve`.
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { attachSignaling, type SignalingOptions, type SignalingServer } from '../../server/signaling';
import { KeyBindings } from '../../server/signalingLimits';
import { parseClientMessage, parseServerMessage, parseSignalData, SIGNAL_LIMITS } from '../../src/p2p/signalingProtocol';
import { toHex } from '../../src/protocol/bytes';
import { randomSigner } from '../../src/protocol/keys';
import { abuseCases, runCases, flood, summaryLine, TARGETS, underAbuse, validatorJoins } from '../support/abuse';
import { rawSignal, type RawSignal } from '../support/rawSignal';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Started {
  server: Server;
  signaling: SignalingServer;
  url: string;
  port: number;
  events: Record<string, unknown>[];
}

async function start(options: SignalingOptions = {}): Promise<Started> {
  const events: Record<string, unknown>[] = [];
  const server = createServer((_, res) => res.end('ok'));
  const signaling = attachSignaling(server, { log: (e) => events.push(e), ...options });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  cleanups.push(async () => {
    await signaling.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { server, signaling, url: `ws://127.0.0.1:${port}/signal`, port, events };
}

/** A raw client from `127.0.0.<n>`, closed after the test. */
async function from(url: string, n: number): Promise<RawSignal> {
  const s = await rawSignal(url, { localAddress: `127.0.0.${n}` });
  cleanups.push(() => s.ws.terminate());
  return s;
}

const answer = (s: RawSignal): Promise<Record<string, unknown>> => s.next((m) => m.type === 'welcome' || m.type === 'error');

async function joined(url: string, n: number, peerId: string, options: Parameters<RawSignal['join']>[2] = {}, room = 'r'): Promise<RawSignal> {
  const s = await from(url, n);
  await s.join(room, peerId, options);
  expect(await answer(s)).toMatchObject({ type: 'welcome', peerId });
  return s;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean, ms = 5000): Promise<void> {
  for (const end = Date.now() + ms; !check(); await sleep(10)) if (Date.now() > end) throw new Error('condition not reached');
}
const candidate = { type: 'candidate', candidate: { candidate: 'candidate:1 1 udp 2122260223 10.0.0.7 50000 typ host', sdpMLineIndex: 0, sdpMid: '0' } };

/** One raw HTTP request; what came back ('' when the server just closed the socket, 'timeout' when it did not). */
function rawHttp(port: number, text: string, ms = 2000): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    let got = '';
    const timer = setTimeout(() => (resolve('timeout'), socket.destroy()), ms);
    socket.on('data', (d: Buffer) => (got += d.toString()));
    socket.on('close', () => (clearTimeout(timer), resolve(got)));
    socket.on('error', () => undefined);
  });
}

describe('signaling under abuse (issue 23)', () => {
  it('finding 1: an upgrade to an invalid absolute-form URL is dropped, and the server goes on', async () => {
    const s = await start();
    const upgrade = 'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n';
    for (const target of ['http://a:99999/', 'http://a:99999/signal', 'http://[::1/signal', 'ws://x:-1/signal']) {
      expect(await rawHttp(s.port, `GET ${target} HTTP/1.1\r\nHost: x\r\n${upgrade}\r\n`), target).toBe(''); // dropped at once
    }
    await joined(s.url, 2, 'alice');
  });

  it('finding 2: a signal nested 5,000 deep is refused before it is parsed, and never reaches the peer', async () => {
    const s = await start();
    const alice = await joined(s.url, 2, 'alice');
    const bob = await joined(s.url, 3, 'bob');
    const nested = '['.repeat(5000) + ']'.repeat(5000);
    alice.ws.send(`{"type":"signal","to":"bob","data":${nested}}`);
    // Deep inside an otherwise valid offer: dropping the extra field would relay it; depth refuses it.
    alice.ws.send(`{"type":"signal","to":"bob","data":{"type":"offer","sdp":"v=0","x":${nested}}}`);
    await alice.next((m) => m.type === 'error' && alice.messages.filter((x) => x.type === 'error').length === 2);
    const errors = alice.messages.filter((m) => m.type === 'error');
    expect(errors).toEqual([0, 1].map(() => ({ type: 'error', code: 'bad-message', message: `message nested deeper than ${SIGNAL_LIMITS.maxJsonDepth}` })));
    alice.ws.send(JSON.stringify({ type: 'signal', to: 'bob', data: candidate }));
    expect(await bob.next((m) => m.type === 'signal')).toEqual({ type: 'signal', from: 'alice', data: candidate });
    expect(bob.messages.filter((m) => m.type === 'signal')).toHaveLength(1);
  });

  it('finding 3: 512 signed joins from one address lock out neither other addresses nor the validator', async () => {
    const validator = randomSigner();
    const s = await start({ validatorKeys: [toHex(validator.publicKey)] });
    const attempts = await Promise.all(Array.from({ length: 512 }, () => rawSignal(s.url, { localAddress: '127.0.0.2' }).catch((err: Error) => err.message)));
    const sockets = attempts.filter((x): x is RawSignal => typeof x !== 'string');
    cleanups.push(() => sockets.forEach((x) => x.ws.terminate()));
    // Past the address's connection cap the upgrade itself is refused, before any handshake.
    expect(attempts.filter((x) => x === 'Unexpected server response: 429')).toHaveLength(512 - SIGNAL_LIMITS.perAddress.connections);
    const answers = await Promise.all(sockets.map(async (x, i) => (await Promise.all([answer(x), x.join('r', `flood-${i}`)]))[0]));
    expect(answers.map((a) => a.type)).toEqual(sockets.map(() => 'welcome'));
    expect(sockets).toHaveLength(SIGNAL_LIMITS.perAddress.connections);
    expect(s.events.filter((e) => e.code === 'address-limit')).toHaveLength(512 - SIGNAL_LIMITS.perAddress.connections);
    await joined(s.url, 3, 'volunteer');
    await joined(s.url, 4, 'validator', { signer: validator, role: 'validator' });
    // Anyone else claiming the validator's role is refused.
    const impostor = await from(s.url, 5);
    await impostor.join('r', 'validator-2', { role: 'validator' });
    expect(await answer(impostor)).toMatchObject({ code: 'not-validator' });
    expect(await impostor.closed).toBe(1008);
  });

  it("finding 3: a room full of one address's members admits other addresses (evicting that address's newest) and validators beyond its size", async () => {
    const validator = randomSigner();
    const s = await start({ maxRoomSize: 8, validatorKeys: [toHex(validator.publicKey)] });
    const crowd: RawSignal[] = [];
    for (let i = 0; i < 8; i++) crowd.push(await joined(s.url, 2, `crowd-${i}`));
    const ninth = await from(s.url, 2);
    await ninth.join('r', 'crowd-8');
    expect(await answer(ninth)).toMatchObject({ code: 'room-full' });
    const newcomer = await joined(s.url, 3, 'newcomer');
    expect(await crowd[7].closed).toBe(4001);
    expect(s.events).toContainEqual(expect.objectContaining({ event: 'signal-evicted', peerId: 'crowd-7' }));
    await joined(s.url, 4, 'validator', { signer: validator, role: 'validator' });
    expect(s.signaling.stats().peers).toBe(9); // the validator took a reserved place: nobody made way
    expect(crowd[0].messages).toContainEqual({ type: 'peer-left', peerId: 'crowd-7' });
    expect(newcomer.messages[0].peers).toHaveLength(7); // crowd-7 had gone before it was welcomed
    for (const c of crowd.slice(0, 7)) expect(c.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('finding 4: an id stays bound to its key after its socket drops; a validator key reclaims a squatted id', async () => {
    const validator = randomSigner();
    const s = await start({ validatorKeys: [toHex(validator.publicKey)] });
    const aliceKey = randomSigner();
    const alice = await joined(s.url, 2, 'alice', { signer: aliceKey });
    alice.ws.terminate();
    await until(() => s.signaling.stats().peers === 0);
    const thief = await from(s.url, 3);
    await thief.join('r', 'alice');
    expect(await answer(thief)).toMatchObject({ code: 'id-taken' });
    expect(await thief.closed).toBe(1008);
    await joined(s.url, 2, 'alice', { signer: aliceKey }); // the owner comes back

    // Someone claims the validator's name first; the validator's key takes it back.
    const squatter = await joined(s.url, 5, 'validator');
    await joined(s.url, 4, 'validator', { signer: validator, role: 'validator' });
    expect(await squatter.closed).toBe(4000);
    const again = await from(s.url, 5);
    await again.join('r', 'validator');
    expect(await answer(again)).toMatchObject({ code: 'id-taken' });
  });

  it("finding 4: the bindings are bounded, forgetting the longest-offline first and never a validator's", () => {
    const b = new KeyBindings(2, (k) => k === 'V');
    expect(b.bind('v', 'V') && b.bind('a', 'A')).toBe(true);
    expect(b.canBind('c')).toBe(false); // both online
    b.release('v');
    expect(b.canBind('c')).toBe(false); // the validator's binding is pinned
    b.release('a');
    expect(b.bind('c', 'C')).toBe(true);
    expect([b.holder('v'), b.holder('a'), b.holder('c')]).toEqual(['V', undefined, 'C']);
  });

  it('finding 5: connections that never join are closed at the join deadline', async () => {
    const s = await start({ joinTimeoutMs: 300 });
    const idle = await Promise.all(Array.from({ length: 40 }, (_, i) => from(s.url, 10 + (i % 4))));
    const member = await joined(s.url, 2, 'alice');
    // Closed by the deadline (its code and message say so), not by some other limit.
    expect(await Promise.all(idle.map((x) => x.closed))).toEqual(idle.map(() => 1008));
    expect(idle[0].messages).toEqual([{ type: 'error', code: 'join-timeout', message: 'no join within 300 ms' }]);
    // A connection opened after the member's reaches its own deadline later than the member's
    // would have: once it is closed, the member has outlived its deadline.
    const later = await from(s.url, 14);
    expect(await later.closed).toBe(1008);
    expect(member.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('finding 6: a connection closed for strikes has none of its queued messages handled', async () => {
    const s = await start();
    const r = await from(s.url, 2);
    for (let i = 0; i < 100; i++) r.ws.send('not json');
    expect(await r.closed).toBe(1008);
    expect(s.signaling.stats().refused).toBe(SIGNAL_LIMITS.maxStrikes);
    expect(s.events.filter((e) => e.event === 'signal-refused')).toHaveLength(SIGNAL_LIMITS.maxStrikes);
  });

  it('finding 6: 64 KiB messages from 20 connections of one address stop at its byte share', async () => {
    const s = await start({ addressLimits: { byteBurst: 256 * 1024, bytesPerSecond: 64 * 1024 } });
    const sockets = await Promise.all(Array.from({ length: 20 }, () => from(s.url, 2)));
    const big = JSON.stringify({ type: 'ping', pad: 'x'.repeat(60_000) });
    for (const x of sockets) for (let i = 0; i < 10; i++) x.ws.send(big);
    await Promise.all(sockets.map((x) => x.closed));
    const pongs = sockets.reduce((n, x) => n + x.messages.filter((m) => m.type === 'pong').length, 0);
    expect(pongs).toBeLessThanOrEqual(Math.ceil((256 * 1024) / big.length) + 2);
    expect(sockets.flatMap((x) => x.messages).filter((m) => m.code === 'address-limit').length).toBeGreaterThan(0);
    await joined(s.url, 3, 'other-address'); // another address has its own share
  });

  it('a member that stops reading is dropped once a megabyte waits for it, not buffered without end', async () => {
    const s = await start({ ratePerSecond: 1000, burst: 1000, addressLimits: { byteBurst: 64 << 20, messageBurst: 10_000 } });
    const sender = await joined(s.url, 2, 'sender');
    const reader = await joined(s.url, 3, 'reader');
    (reader.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const offer = JSON.stringify({ type: 'signal', to: 'reader', data: { type: 'offer', sdp: 'v'.repeat(SIGNAL_LIMITS.maxSdpBytes) } });
    for (let i = 0; i < 600; i++) sender.ws.send(offer); // 19 MiB: more than loopback's socket buffers hold
    await expect.poll(() => s.signaling.stats().peers, { timeout: 5000 }).toBe(1);
    expect(s.events).toContainEqual(expect.objectContaining({ event: 'signal-leave', peerId: 'reader' }));
  });

  it('a message the server fails on costs its connection only, never the process', async () => {
    let fail = false;
    // A bug stand-in: settings that throw when read, once the server has started with them.
    const settings = {
      stun: [],
      get turn(): string[] {
        if (fail) throw new Error('boom');
        return [];
      },
      relayOnly: false,
    };
    const s = await start({ ice: { settings } });
    const alice = await joined(s.url, 2, 'alice');
    fail = true;
    const unlucky = await from(s.url, 3);
    await unlucky.join('r', 'bob');
    expect(await answer(unlucky)).toEqual({ type: 'error', code: 'internal-error', message: 'the server failed handling that message' });
    expect(await unlucky.closed).toBe(1011);
    expect(s.events).toContainEqual(expect.objectContaining({ event: 'signal-error', message: 'boom' }));
    expect(s.signaling.stats()).toMatchObject({ rooms: 1, peers: 1 });
    alice.ws.send('{"type":"ping"}');
    expect(await alice.next((m) => m.type === 'pong')).toEqual({ type: 'pong' });
  });

  it('a join without a signature is refused as unsigned', async () => {
    const s = await start();
    const unsigned = await from(s.url, 2);
    unsigned.ws.send(JSON.stringify({ type: 'join', room: 'r', peerId: 'anon' }));
    expect(await answer(unsigned)).toMatchObject({ code: 'unsigned' });
    expect(await unsigned.closed).toBe(1008);
  });
});

describe('signal payloads', () => {
  const sdp = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n';
  it("relays simple-peer 9's shapes, rebuilt from their fields", () => {
    const ok = [
      { type: 'offer', sdp },
      { type: 'answer', sdp },
      candidate,
      { type: 'candidate', candidate: { candidate: '', sdpMLineIndex: null, sdpMid: '0', usernameFragment: 'abcd' } },
      { type: 'renegotiate', renegotiate: true },
    ];
    for (const data of ok) expect(parseSignalData(data)).toEqual(data);
    expect(parseSignalData({ type: 'offer', sdp, extra: { deep: [1] }, toString: 'x' })).toEqual({ type: 'offer', sdp });
    const parsed = parseClientMessage(JSON.stringify({ type: 'signal', to: 'b', data: { ...candidate, candidate: { ...candidate.candidate, port: 1 } } }));
    expect(parsed).toEqual({ ok: true, message: { type: 'signal', to: 'b', data: candidate } });
  });

  it('refuses every other shape, on the server and in the client', () => {
    const bad: unknown[] = [
      {},
      [],
      { type: 'transceiverRequest', transceiverRequest: { kind: 'audio' } }, // media only: the swarm adds no tracks
      { type: 'offer' },
      { type: 'offer', sdp: '' },
      { type: 'offer', sdp: 'x'.repeat(SIGNAL_LIMITS.maxSdpBytes + 1) },
      { type: 'offer', sdp: ['v=0'] },
      { type: 'pranswer', sdp },
      { type: 'candidate', candidate: 'candidate:1' },
      { type: 'candidate', candidate: { candidate: 'c', sdpMLineIndex: null, sdpMid: null } }, // RTCIceCandidate throws on it
      { type: 'candidate', candidate: { candidate: 'c', sdpMLineIndex: 1024, sdpMid: '0' } },
      { type: 'candidate', candidate: { candidate: 'c', sdpMLineIndex: 0.5, sdpMid: '0' } },
      { type: 'candidate', candidate: { candidate: 'c'.repeat(1025), sdpMLineIndex: 0, sdpMid: '0' } },
      { type: 'candidate', candidate: { candidate: 'c', sdpMLineIndex: 0, sdpMid: 'm'.repeat(65) } },
      { type: 'candidate', candidate: { candidate: 'c', sdpMLineIndex: 0, sdpMid: '0', usernameFragment: 7 } },
      { type: 'renegotiate', renegotiate: 'yes' },
    ];
    for (const data of bad) {
      expect(parseSignalData(data), JSON.stringify(data).slice(0, 80)).toBeNull();
      expect(parseClientMessage(JSON.stringify({ type: 'signal', to: 'b', data })).ok).toBe(false);
      expect(parseServerMessage(JSON.stringify({ type: 'signal', from: 'a', data })).ok).toBe(false);
    }
    const deep = `{"type":"signal","from":"a","data":${'['.repeat(9)}${']'.repeat(9)}}`;
    expect(parseServerMessage(deep)).toEqual({ ok: false, error: 'message nested deeper than 8' });
    // Brackets inside strings are not nesting.
    expect(parseSignalData(JSON.parse(JSON.stringify({ type: 'offer', sdp: '[[[[[[[[[[{{{{{{{{{{"\\' })))).not.toBeNull();
    expect(parseClientMessage(JSON.stringify({ type: 'signal', to: 'b', data: { type: 'offer', sdp: '[[[[[[[[[[{{{{{{{{{{"\\' } })).ok).toBe(true);
  });
});

describe('the abuse harness (a fast subset of npm run bench:abuse)', () => {
  it('500 fuzz cases and a flood from one address: no crash, the honest pair keeps signaling, /healthz answers', async () => {
    const validator = randomSigner();
    const report = await underAbuse({ validator }, async (server) => {
      const outcomes = await runCases(server, abuseCases(500, 7, TARGETS), 16);
      expect(Object.values(outcomes).reduce((a, b) => a + b, 0)).toBe(500);
      const [flooded, validatorOk] = await Promise.all([flood(server, 64, '127.0.0.2', 500), validatorJoins(server, validator, '127.0.0.3')]);
      expect(flooded.welcomed).toBe(SIGNAL_LIMITS.perAddress.connections);
      expect(validatorOk).toBe(true);
      return 500 + 64;
    });
    console.log(summaryLine(report));
    expect(report.crashOutput).toEqual([]);
    expect(report.crashes).toBe(0);
    expect(report.honest).toMatchObject({ failures: 0 });
    expect(report.honest.rounds).toBeGreaterThan(3);
    // Every /healthz probe answered; its latency is the bench's to measure (bench:abuse), not a
    // test's: other test files share the two cores.
    expect(report.healthz.failures).toBe(0);
  }, 60_000);
});
