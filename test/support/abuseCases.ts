// Hostile inputs for the public server, from a seed: mutated signaling messages of every type
// (and junk, deep nesting, huge strings, binary frames), and malformed HTTP requests over raw TCP.
import { seededRandom } from '../../src/model/random';
import type { PeerRole } from '../../src/p2p/signalingProtocol';

export type Rng = () => number;

/** The same seed makes the same cases. */
export const seeded: (seed: number) => Rng = seededRandom;

const int = (rng: Rng, lo: number, hi: number): number => lo + Math.floor(rng() * (hi - lo + 1));
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)];

/** What a signed join needs at send time: the connection's nonce is only known then. */
export interface JoinFrame {
  join: {
    room: string;
    peerId: string;
    role: PeerRole;
    signature: 'valid' | 'wrong-nonce' | 'garbage' | 'none';
    mutate?: (m: Record<string, unknown>) => void;
  };
}
export type Frame = string | Uint8Array | JoinFrame;

export interface WsCase {
  kind: 'ws';
  name: string;
  /** Join the run's room with a valid signed join first, so signals reach the relay. */
  joinFirst: boolean;
  frames: Frame[];
}

export interface HttpCase {
  kind: 'http';
  name: string;
  /** Written in order, `gapMs` apart (a slow client when the gap is long). */
  chunks: Buffer[];
  gapMs: number;
}

export type AbuseCase = WsCase | HttpCase;

/** Where the cases aim: the run's room and the peer ids the harness keeps joined there. */
export interface Targets {
  room: string;
  peers: readonly string[];
}

const DEEP = '\u0001DEEP:';
/** A placeholder that serializes to arrays nested `depth` deep (building the value itself would be just as deep). */
const deep = (depth: number): string => `${DEEP}${depth}`;

const UNICODE = ['é', '𝄞', '\u0000', '\u202e', '\ud800', '\udfff', '\ufeff', '\u2028', '😀', '\\', '"', '\n'];

function randomText(rng: Rng, length: number): string {
  let s = '';
  for (let i = 0; i < length; i++) s += rng() < 0.2 ? pick(rng, UNICODE) : String.fromCharCode(int(rng, 0x20, 0x7e));
  return s;
}

/** A value of the wrong kind, size or content for wherever it lands. */
function evilValue(rng: Rng): unknown {
  switch (int(rng, 0, 15)) {
    case 0:
      return null;
    case 1:
      return int(rng, -(2 ** 31), 2 ** 31);
    case 2:
      return pick(rng, [1e308, -1e308, 2 ** 53 + 1, 0.5, -0, 1024, 65536]);
    case 3:
      return rng() < 0.5;
    case 4:
      return '';
    case 5:
      return randomText(rng, int(rng, 1, 300));
    case 6:
      return 'x'.repeat(pick(rng, [129, 1025, 33_000, 70_000]));
    case 7:
      return [];
    case 8:
      return {};
    case 9:
      return deep(pick(rng, [7, 9, 50, 1000, 5000, 20_000]));
    case 10:
      return Array.from({ length: int(rng, 1, 300) }, () => int(rng, 0, 9));
    case 11:
      return pick(rng, ['__proto__', 'constructor', 'toString', 'hasOwnProperty']);
    case 12:
      return { type: 'offer', sdp: randomText(rng, 20) };
    case 13:
      return pick(rng, ['peer', 'validator', 'observer', 'admin', 'VALIDATOR']);
    case 14:
      return pick(rng, ['run-1', 'abuse-run', 'honest-a', 'sink', 'a'.repeat(128), 'bad room', '../x']);
    default:
      return String.fromCharCode(...Array.from({ length: int(rng, 1, 40) }, () => int(rng, 0, 0xffff)));
  }
}

/** Every path to a value in a JSON-like value, objects and arrays included. */
function paths(v: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const out = [prefix];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...prefix, i])));
  else if (typeof v === 'object' && v !== null) for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...prefix, k]));
  return out;
}

/** Sets an own property, `__proto__` included (plain assignment would set the prototype instead). */
function setOwn(o: Record<string | number, unknown>, key: string | number, value: unknown): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

/** One to three structural mutations: replace, delete or add a field anywhere, or wrap a value. */
export function mutate(rng: Rng, value: Record<string, unknown>): Record<string, unknown> {
  const root = structuredClone(value);
  for (let n = int(rng, 1, 3); n > 0; n--) {
    const all = paths(root).filter((p) => p.length > 0);
    if (all.length === 0) break;
    const path = pick(rng, all);
    let parent = root as Record<string | number, unknown>;
    for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
    const key = path[path.length - 1];
    const op = int(rng, 0, 3);
    if (op === 0) delete parent[key];
    else if (op === 1) setOwn(parent, pick(rng, ['__proto__', 'constructor', 'extra', 'type', 'x'.repeat(300)]), evilValue(rng));
    else if (op === 2) setOwn(parent, key, [parent[key]]);
    else setOwn(parent, key, evilValue(rng));
  }
  return root;
}

/** JSON text with the deep-nesting placeholders expanded. */
export function serialize(value: unknown): string {
  return JSON.stringify(value).replace(/"\\u0001DEEP:(\d+)"/g, (_, d: string) => '['.repeat(Number(d)) + ']'.repeat(Number(d)));
}

/** Damage to the text itself: truncation, a stray byte, doubled, wrapped, a BOM. */
function damage(rng: Rng, text: string): string {
  const at = int(rng, 0, text.length);
  switch (int(rng, 0, 5)) {
    case 0:
      return text.slice(0, at);
    case 1:
      return text.slice(0, at) + pick(rng, ['"', '{', ']', '\\', '\u0000', ',', 'é']) + text.slice(at);
    case 2:
      return text + text;
    case 3:
      return `[${text}]`;
    case 4:
      return `\ufeff${text}`;
    default:
      return text.replace(/"/g, "'");
  }
}

const SDP =
  'v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n';

/** simple-peer's signal payloads, and its one kind the server refuses (transceiverRequest). */
function baseSignal(rng: Rng): Record<string, unknown> {
  switch (int(rng, 0, 4)) {
    case 0:
      return { type: 'offer', sdp: SDP };
    case 1:
      return { type: 'answer', sdp: SDP };
    case 2:
      return {
        type: 'candidate',
        candidate: {
          candidate: 'candidate:842163049 1 udp 1677729535 10.0.0.1 58481 typ srflx raddr 0.0.0.0 rport 0 generation 0',
          sdpMLineIndex: 0,
          sdpMid: '0',
        },
      };
    case 3:
      return { type: 'renegotiate', renegotiate: true };
    default:
      return { type: 'transceiverRequest', transceiverRequest: { kind: 'audio', init: { direction: 'sendrecv' } } };
  }
}

function signalFrame(rng: Rng, t: Targets): string {
  const to = rng() < 0.8 ? pick(rng, t.peers) : evilValue(rng);
  const message = { type: 'signal', to, data: baseSignal(rng) };
  const text = serialize(rng() < 0.2 ? message : mutate(rng, message));
  return rng() < 0.1 ? damage(rng, text) : text;
}

function joinFrame(rng: Rng, t: Targets, i: number): JoinFrame {
  const role = pick<PeerRole>(rng, ['peer', 'peer', 'validator', 'observer']);
  const peerId = rng() < 0.2 ? pick(rng, t.peers) : `fuzz-${i}`;
  const signature = pick(rng, ['valid', 'valid', 'wrong-nonce', 'garbage', 'none'] as const);
  const room = rng() < 0.85 ? t.room : String(evilValue(rng)).slice(0, 200);
  // Its own seed: applied at send time, it must not disturb the order the other cases are drawn in.
  const sub = int(rng, 0, 2 ** 31);
  return {
    join: { room, peerId, role, signature, ...(rng() < 0.5 ? { mutate: (m: Record<string, unknown>) => Object.assign(m, mutate(seeded(sub), m)) } : {}) },
  };
}

function junkFrame(rng: Rng): Frame {
  switch (int(rng, 0, 7)) {
    case 0:
      return randomText(rng, int(rng, 0, 2000));
    case 1:
      return serialize(evilValue(rng));
    case 2:
      return serialize({ type: deep(int(rng, 5, 6000)) });
    case 3:
      return `{"__proto__":{"polluted":true},"type":"ping","constructor":{"prototype":{"x":1}}}`;
    case 4:
      return Uint8Array.from({ length: int(rng, 0, 4096) }, () => int(rng, 0, 255));
    case 5:
      return serialize({ type: pick(rng, ['PING', 'ping ', 'hello', 'welcome', 'error', 'pong', 'signal', 'join', '']), pad: 'x'.repeat(int(rng, 0, 60_000)) });
    case 6:
      return damage(rng, serialize({ type: 'ping' }));
    default:
      return serialize(mutate(rng, { type: 'ping' }));
  }
}

/** One WebSocket case: a few frames of one kind, sometimes a burst, sometimes after joining. */
function wsCase(rng: Rng, t: Targets, i: number): WsCase {
  const kind = pick(rng, ['join', 'signal', 'signal', 'ping', 'junk', 'junk', 'burst', 'rejoin'] as const);
  const frames: Frame[] = [];
  const count = int(rng, 1, 3);
  for (let n = 0; n < count; n++) {
    if (kind === 'join' || kind === 'rejoin') frames.push(joinFrame(rng, t, i));
    else if (kind === 'signal') frames.push(signalFrame(rng, t));
    else if (kind === 'ping') frames.push(serialize(rng() < 0.5 ? { type: 'ping' } : mutate(rng, { type: 'ping', n })));
    else if (kind === 'junk') frames.push(junkFrame(rng));
  }
  if (kind === 'burst') {
    const one = rng() < 0.5 ? signalFrame(rng, t) : junkFrame(rng);
    for (let n = int(rng, 20, 300); n > 0; n--) frames.push(one);
  }
  return { kind: 'ws', name: `ws-${kind}-${i}`, joinFirst: kind === 'signal' || kind === 'rejoin' || (kind !== 'join' && rng() < 0.3), frames };
}

const METHODS = ['GET', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT', 'PRI', 'GE T', '', 'get', 'X'.repeat(300), 'É'];
const TARGETS = [
  '/',
  '/healthz',
  '/signal',
  '/api/run',
  '/api/status',
  '/api/status/history?after=%zz',
  '/api/status/history?after=-99999999999999999999',
  '/api/status/address?address=%00',
  'http://a:99999/',
  'http://a:99999/signal',
  'ws://x:65536/signal',
  'http://[::1/',
  'http://a:-1/',
  'http:///',
  'http://user:pass@host:8080/signal',
  '//signal',
  '/%',
  '/%zz',
  '/%E0%A4%A',
  '/..%2f..%2fetc%2fpasswd',
  '/%00',
  '/assets/%2e%2e/%2e%2e/package.json',
  '/../../etc/passwd',
  '*',
  '',
  ' ',
  '/\u00e9',
  `/${'a'.repeat(9000)}`,
  '/signal?x=' + '%'.repeat(100),
];
const VERSIONS = ['HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/0.9', 'HTTP/2.0', 'HTTP/1.1x', '', 'HTTP/9.9'];

function httpHeaders(rng: Rng): string[] {
  const h = rng() < 0.9 ? ['Host: x'] : [];
  const extra = [
    () => [
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Key: ${rng() < 0.7 ? 'dGhlIHNhbXBsZSBub25jZQ==' : randomText(rng, 30)}`,
      `Sec-WebSocket-Version: ${pick(rng, ['13', '8', 'x', ''])}`,
    ],
    () => [`X-Big: ${'b'.repeat(pick(rng, [8000, 20_000, 70_000]))}`],
    () => Array.from({ length: int(rng, 100, 3000) }, (_, i) => `X-H${i}: v`),
    () => [`Content-Length: ${pick(rng, ['-1', '99999999999', 'abc', '5', '0, 5'])}`],
    () => ['Transfer-Encoding: chunked', 'Content-Length: 3'],
    () => [`X-Forwarded-For: ${pick(rng, ['1.2.3.4', '', ',,,', 'x'.repeat(5000), '::ffff:1.2.3.4, 2001:db8::1'])}`],
    () => ['no colon here', ' leading: space', 'Bad Name: x', 'X-Nul: a\u0000b', '\tfolded continuation'],
    () => [`Cookie: ${randomText(rng, 200)}`, `Accept-Encoding: ${'gzip, '.repeat(500)}`],
  ];
  for (let n = int(rng, 0, 2); n > 0; n--) h.push(...pick(rng, extra)());
  return h;
}

/** One raw HTTP request: a request line, headers and maybe a body, often malformed. */
function httpCase(rng: Rng, i: number): HttpCase {
  const eol = rng() < 0.85 ? '\r\n' : pick(rng, ['\n', '\r', '\r\r\n']);
  const line = `${pick(rng, METHODS)} ${pick(rng, TARGETS)} ${pick(rng, VERSIONS)}`;
  const end = rng() < 0.9 ? eol : ''; // sometimes never finished: the server must not wait forever
  const body = rng() < 0.2 ? pick(rng, ['0\r\n\r\n', 'zz\r\nxx\r\n', 'x'.repeat(int(rng, 1, 3000))]) : '';
  const text = [line, ...httpHeaders(rng)].join(eol) + eol + end + body;
  const slow = rng() < 0.02;
  const bytes = Buffer.from(text, 'latin1');
  // A slow client dribbles its first bytes one at a time, then sends the rest.
  const chunks = slow ? [...Array.from({ length: Math.min(8, bytes.length) }, (_, k) => bytes.subarray(k, k + 1)), bytes.subarray(8)] : [bytes];
  return { kind: 'http', name: `http-${i}`, chunks, gapMs: slow ? 100 : 0 };
}

/** `n` cases from `seed`: about four in five over WebSocket, the rest raw HTTP. */
export function abuseCases(n: number, seed: number, targets: Targets): AbuseCase[] {
  const rng = seeded(seed);
  return Array.from({ length: n }, (_, i) => (rng() < 0.8 ? wsCase(rng, targets, i) : httpCase(rng, i)));
}
