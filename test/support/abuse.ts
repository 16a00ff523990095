// Runs hostile clients against a real `tessera serve` in a child process while an honest pair
// keeps joining and signaling and /healthz is timed: the fuzz cases, a flood, idle and slow clients.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { get } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import WebSocket from 'ws';
import { signedJoin } from '../../src/p2p/signalingProtocol';
import { toHex } from '../../src/protocol/bytes';
import { randomSigner, type Signer } from '../../src/protocol/keys';
import { abuseCases, serialize, type AbuseCase, type Frame, type HttpCase, type JoinFrame, type Targets, type WsCase } from './abuseCases';
import type { AbuseServerConfig } from './abuseServer';
import { joinMessage, rawSignal, type RawSignal } from './rawSignal';

export const ROOM = 'abuse-run';
const HOST = '127.0.0.1';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Distinct loopback source addresses (Linux routes all of 127/8 to lo): `127.<net>.x.y`. */
export const loopback = (net: number, i: number): string => `127.${net}.${(i >> 8) & 255}.${i & 255 || 1}`;

/** The server in a child process; an exit it did not ask for is a crash, and it is started again. */
export class AbuseServer {
  port = 0;
  crashes = 0;
  readonly crashOutput: string[] = [];
  private child?: ChildProcess;
  private stopping = false;

  constructor(private readonly config: AbuseServerConfig) {}

  get url(): string {
    return `ws://${HOST}:${this.port}/signal`;
  }

  async start(): Promise<void> {
    const entry = join(import.meta.dirname, 'abuseServer.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', entry, JSON.stringify(this.config)], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    child.once('exit', (code, signal) => {
      if (this.stopping) return;
      this.crashes++;
      this.crashOutput.push(`exit ${code ?? signal}: ${stderr.trim()}`);
      void this.start();
    });
    this.port = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        const line = out.split('\n').find((l) => l.startsWith('{"port"'));
        if (line) resolve((JSON.parse(line) as { port: number }).port);
      });
      child.once('exit', () => reject(new Error(`abuse server exited at start: ${stderr.trim()}`)));
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }

  /** GET /healthz: its latency in ms and its body (undefined when it failed). */
  health(localAddress = '127.30.0.1', timeoutMs = 2000): Promise<{ ms: number; body?: Record<string, unknown> }> {
    const t0 = performance.now();
    return new Promise((resolve) => {
      const req = get({ host: HOST, port: this.port, path: '/healthz', localAddress, agent: false, timeout: timeoutMs }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ ms: performance.now() - t0, body: res.statusCode === 200 ? (JSON.parse(text) as Record<string, unknown>) : undefined }));
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve({ ms: performance.now() - t0 }));
    });
  }
}

/**
 * Polls /healthz every `everyMs` from a worker thread: the harness's own busy event loop (it
 * signs joins and parses answers for thousands of clients) must not count as server latency.
 */
const PROBE = `
const { parentPort, workerData } = require('node:worker_threads');
const { get } = require('node:http');
const latencies = [];
let failures = 0;
const timer = setInterval(() => {
  const t0 = performance.now();
  const req = get({ host: workerData.host, port: workerData.port, path: '/healthz', localAddress: '127.30.0.1', agent: false, timeout: 2000 }, (res) => {
    res.resume();
    res.on('end', () => { latencies.push([Date.now(), performance.now() - t0]); if (res.statusCode !== 200) failures++; });
  });
  req.on('timeout', () => req.destroy());
  req.on('error', () => { latencies.push([Date.now(), performance.now() - t0]); failures++; });
}, workerData.everyMs);
parentPort.on('message', () => { clearInterval(timer); parentPort.postMessage({ latencies, failures }); });
`;

export class HealthProbe {
  /** [when (ms since the epoch), latency (ms)] of each probe. */
  samples: [number, number][] = [];
  failures = 0;
  private worker?: Worker;

  constructor(private readonly server: AbuseServer) {}

  start(everyMs = 50): void {
    this.worker = new Worker(PROBE, { eval: true, workerData: { host: HOST, port: this.server.port, everyMs } });
  }

  async stop(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.worker = undefined;
    const result = await new Promise<{ latencies: [number, number][]; failures: number }>((resolve) => {
      worker.once('message', resolve);
      worker.postMessage('stop');
    });
    await worker.terminate();
    this.samples = result.latencies;
    this.failures = result.failures;
  }

  get latencies(): number[] {
    return this.samples.map(([, ms]) => ms);
  }

  /** The p-th percentile latency, of the probes sent in [from, to) when given. */
  percentile(p: number, from = 0, to = Infinity): number {
    const sorted = this.samples
      .filter(([t]) => t >= from && t < to)
      .map(([, ms]) => ms)
      .sort((a, b) => a - b);
    return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;
  }
}

/**
 * Two honest peers that join, exchange an ICE candidate and leave, round after round, each
 * round from fresh loopback addresses (as real volunteers each have their own) and the same keys.
 */
export class HonestPair {
  rounds = 0;
  failures = 0;
  readonly errors: string[] = [];
  private running?: Promise<void>;
  private stopped = false;
  private readonly keys: [Signer, Signer] = [randomSigner(), randomSigner()];

  constructor(private readonly server: AbuseServer) {}

  start(gapMs = 100): void {
    this.running = (async () => {
      while (!this.stopped) {
        await this.round();
        await sleep(gapMs);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  /** One round; true when both joined and the candidate arrived. */
  async round(): Promise<boolean> {
    const n = this.rounds++;
    const sockets: RawSignal[] = [];
    try {
      const a = await rawSignal(this.server.url, { localAddress: loopback(20, (2 * n) % 120) });
      sockets.push(a);
      const b = await rawSignal(this.server.url, { localAddress: loopback(20, (2 * n + 1) % 120) });
      sockets.push(b);
      await Promise.all([a.join(ROOM, 'honest-a', { signer: this.keys[0] }), b.join(ROOM, 'honest-b', { signer: this.keys[1] })]);
      for (const s of [a, b]) {
        const first = await s.next((m) => m.type === 'welcome' || m.type === 'error', 3000);
        if (first.type !== 'welcome') throw new Error(`join refused: ${JSON.stringify(first)}`);
      }
      const candidate = { candidate: 'candidate:1 1 udp 2122260223 10.0.0.7 50000 typ host', sdpMLineIndex: 0, sdpMid: '0' };
      a.ws.send(JSON.stringify({ type: 'signal', to: 'honest-b', data: { type: 'candidate', candidate } }));
      await b.next((m) => m.type === 'signal' && m.from === 'honest-a', 3000);
      return true;
    } catch (err) {
      this.failures++;
      if (this.errors.length < 10) this.errors.push(`round ${n}: ${err instanceof Error ? err.message : String(err)}`);
      return false;
    } finally {
      for (const s of sockets) s.ws.terminate();
    }
  }
}

/** A few throwaway signers: joins are signed, but a fresh key per case would cost more than the case. */
const SIGNERS = Array.from({ length: 32 }, () => randomSigner());

function joinText(f: JoinFrame, nonce: string): string {
  const { room, peerId, role, signature, mutate } = f.join;
  const msg: Record<string, unknown> = { type: 'join', room, peerId, role };
  if (signature !== 'none') {
    const signer = SIGNERS[peerId.length % SIGNERS.length];
    const signed = signer.sign(signedJoin(signature === 'wrong-nonce' ? randomBytes(16).toString('hex') : nonce, room, peerId));
    msg.auth = {
      scheme: signer.scheme,
      publicKey: toHex(signer.publicKey),
      signature: signature === 'garbage' ? randomBytes(64).toString('hex') : toHex(signed),
    };
  }
  mutate?.(msg);
  return serialize(msg);
}

function sendFrame(ws: WebSocket, frame: Frame, nonce: string): void {
  if (ws.readyState !== WebSocket.OPEN) return;
  if (typeof frame === 'string') ws.send(frame);
  else if (frame instanceof Uint8Array) ws.send(frame, { binary: true });
  else ws.send(joinText(frame, nonce));
}

/** Waits for `ws` to open and say hello; the nonce, or undefined when it closed or took too long. */
function hello(ws: WebSocket, ms: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(undefined), ms);
    ws.on('message', (d: Buffer) => {
      const m = JSON.parse(d.toString()) as { type?: string; nonce?: string };
      if (m.type === 'hello') {
        clearTimeout(t);
        resolve(m.nonce);
      }
    });
    ws.on('close', () => resolve(undefined));
    ws.on('error', () => resolve(undefined));
  });
}

/** Runs one WebSocket case; its outcome ('pong', 'closed:1008', 'no-hello', …). */
async function runWsCase(url: string, c: WsCase, localAddress: string, i: number): Promise<string> {
  const ws = new WebSocket(url, { localAddress, maxPayload: 1 << 20 });
  let pongs = 0;
  let code = 0;
  const closed = new Promise<void>((resolve) => ws.on('close', (c: number) => ((code = c), resolve())));
  ws.on('message', (d: Buffer) => {
    if (d.toString() === '{"type":"pong"}') pongs++;
  });
  try {
    const nonce = await hello(ws, 3000);
    if (nonce === undefined) return code ? `closed:${code}` : 'no-hello';
    if (c.joinFirst) ws.send(joinMessage(nonce, ROOM, `fuzz-j${i}`, SIGNERS[i % SIGNERS.length]));
    for (const f of c.frames) sendFrame(ws, f, nonce);
    // The server answers in order: the pong to a last ping means it has handled every frame.
    const before = pongs;
    if (ws.readyState === WebSocket.OPEN) ws.send('{"type":"ping"}');
    const end = Date.now() + 3000;
    while (pongs <= before && ws.readyState === WebSocket.OPEN && Date.now() < end) await Promise.race([closed, sleep(5)]);
    if (ws.readyState === WebSocket.OPEN) return pongs > before ? 'pong' : 'timeout';
    await Promise.race([closed, sleep(1500)]); // the server's close code, once the handshake is done
    return `closed:${code || 'unfinished'}`;
  } finally {
    ws.terminate();
  }
}

/** Runs one raw HTTP case; its status ('400'), 'closed' (no answer) or 'timeout' (still open). */
function runHttpCase(port: number, c: HttpCase, localAddress: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: HOST, port, localAddress });
    let head = '';
    const done = (outcome: string): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => done(head ? head.slice(9, 12) : 'timeout'), 400 + c.chunks.length * c.gapMs);
    socket.on('data', (d: Buffer) => {
      head += d.toString('latin1').slice(0, 64);
      if (/^HTTP\/1\.[01] \d{3}/.test(head)) done(head.slice(9, 12));
    });
    socket.on('close', () => done(head ? head.slice(9, 12) : 'closed'));
    socket.on('error', () => undefined); // 'close' follows
    socket.on('connect', () => {
      void (async () => {
        for (const chunk of c.chunks) {
          if (socket.destroyed) return;
          socket.write(chunk);
          if (c.gapMs) await sleep(c.gapMs);
        }
      })();
    });
  });
}

/** Runs `cases` `concurrency` at a time, each from one of 1,024 source addresses; outcomes counted. */
export async function runCases(server: AbuseServer, cases: AbuseCase[], concurrency = 24): Promise<Record<string, number>> {
  const outcomes: Record<string, number> = {};
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < cases.length) {
      const i = next++;
      const c = cases[i];
      const address = loopback(10, i % 1024);
      const outcome = c.kind === 'ws' ? await runWsCase(server.url, c, address, i) : await runHttpCase(server.port, c, address);
      const key = `${c.kind}:${outcome}`;
      outcomes[key] = (outcomes[key] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return outcomes;
}

/** Opens `n` connections from one address at once, each trying a signed join; how each ended up (address-limit: a 429 or a refused join). */
export async function flood(
  server: AbuseServer,
  n: number,
  localAddress: string,
  holdMs: number,
): Promise<{ welcomed: number; addressLimit: number; other: number }> {
  const opened = await Promise.all(Array.from({ length: n }, () => rawSignal(server.url, { localAddress }).catch((err: Error) => err)));
  const sockets = opened.map((s) => (s instanceof Error ? undefined : s));
  const outcomes = await Promise.all(
    opened.map(async (s, i) => {
      // Over the connection cap: refused before the handshake.
      if (s instanceof Error) return s.message.includes('429') ? 'address-limit' : 'no-open';
      const first = s.next((m) => m.type === 'welcome' || m.type === 'error', 5000).catch((): Record<string, unknown> => ({ type: 'none' }));
      await s.join(ROOM, `flood-${i}`);
      const m = await first;
      return m.type === 'welcome' ? 'welcome' : String(m.code ?? m.type);
    }),
  );
  await sleep(holdMs);
  for (const s of sockets) s?.ws.terminate();
  const count = (o: string): number => outcomes.filter((x) => x === o).length;
  return { welcomed: count('welcome'), addressLimit: count('address-limit'), other: n - count('welcome') - count('address-limit') };
}

/** The validator joining (with its run key) from its own address; true when welcomed. */
export async function validatorJoins(server: AbuseServer, signer: Signer, localAddress: string): Promise<boolean> {
  const v = await rawSignal(server.url, { localAddress });
  try {
    await v.join(ROOM, 'validator', { signer, role: 'validator' });
    return (await v.next((m) => m.type === 'welcome' || m.type === 'error', 3000)).type === 'welcome';
  } catch {
    return false;
  } finally {
    v.ws.terminate();
  }
}

/** Opens `n` connections spread over addresses that never join; how many the server closed within `waitMs`. */
export async function idleClients(server: AbuseServer, n: number, waitMs: number): Promise<{ opened: number; closedByServer: number }> {
  const sockets = (
    await Promise.all(Array.from({ length: n }, (_, i) => rawSignal(server.url, { localAddress: loopback(40, Math.floor(i / 16)) }).catch(() => undefined)))
  ).filter((s) => s !== undefined);
  let closedByServer = 0;
  for (const s of sockets) void s.closed.then(() => closedByServer++);
  await sleep(waitMs);
  for (const s of sockets) s.ws.terminate();
  return { opened: sockets.length, closedByServer };
}

/**
 * Slowloris: clients that send a request's header one byte at a time, `gapMs` apart, for up to
 * `forMs`; how many the server cut off in that time (Node's own header timeout, or the app's).
 */
export async function slowClients(server: AbuseServer, n: number, gapMs: number, forMs: number): Promise<{ clients: number; cut: number }> {
  const request = Buffer.from(`GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ${'s'.repeat(10_000)}\r\n\r\n`);
  let cut = 0;
  await Promise.all(
    Array.from(
      { length: n },
      (_, i) =>
        new Promise<void>((resolve) => {
          const socket = connect({ host: HOST, port: server.port, localAddress: loopback(50, i) });
          let k = 0;
          const timer = setInterval(() => socket.write(request.subarray(k, ++k)), gapMs);
          const end = setTimeout(() => finish(false), forMs);
          let finished = false;
          const finish = (byServer: boolean): void => {
            if (finished) return;
            finished = true;
            clearInterval(timer);
            clearTimeout(end);
            if (byServer) cut++;
            socket.destroy();
            resolve();
          };
          // Cut: the server answered (408/400) and ended its side, or dropped the connection.
          // (Reading is what lets 'end' be seen: a paused socket never gets that far.)
          socket.resume();
          socket.on('end', () => finish(true));
          socket.on('close', () => finish(true));
          socket.on('error', () => undefined);
        }),
    ),
  );
  return { clients: n, cut };
}

export interface AbuseReport {
  cases: number;
  crashes: number;
  crashOutput: string[];
  honest: { rounds: number; failures: number; errors: string[] };
  healthz: { samples: number; failures: number; p50: number; p99: number; max: number };
  /** /healthz by phase of the abuse, as the body marked them. */
  phases: { phase: string; samples: number; p99: number; max: number }[];
  outcomes: Record<string, number>;
  /** The server's event-loop delay over the whole run, in ms (its own stalls, not the OS's scheduling). */
  loopDelay?: { p99: number; max: number };
}

/** The line `npm run bench:abuse` ends with. */
export function summaryLine(r: AbuseReport): string {
  const honest = r.honest.failures === 0 && r.honest.rounds > 0 ? 'ok' : `FAILED (${r.honest.failures} of ${r.honest.rounds} rounds)`;
  return `abuse: ${r.cases} cases, crashes ${r.crashes}, honest joins ${honest}, healthz p99 ${r.healthz.p99.toFixed(1)} ms`;
}

/** Starts the server, the honest pair and the /healthz probe; `body` does the abusing. */
export async function underAbuse(
  config: { validator: Signer; signaling?: AbuseServerConfig['signaling'] },
  body: (server: AbuseServer, phase: (name: string) => void) => Promise<number>,
): Promise<AbuseReport> {
  const server = new AbuseServer({ room: ROOM, validatorKeys: [toHex(config.validator.publicKey)], signaling: config.signaling });
  await server.start();
  const honest = new HonestPair(server);
  const probe = new HealthProbe(server);
  let sinkSocket: WebSocket | undefined;
  try {
    // The honest ids are bound to their keys before anyone else can try them.
    if (!(await honest.round())) throw new Error(`the honest pair cannot even start: ${honest.errors.join('; ')}`);
    // A member that takes whatever signals the fuzz cases manage to get relayed.
    const sink = await rawSignal(server.url, { localAddress: loopback(60, 1) });
    await sink.join(ROOM, 'sink');
    sinkSocket = sink.ws;
    honest.start();
    probe.start();
    const marks: [string, number][] = [];
    const cases = await body(server, (name) => marks.push([name, Date.now()]));
    marks.push(['end', Date.now()]);
    await honest.stop();
    await probe.stop();
    const final = (await server.health()).body;
    const outcomes = (final?.events ?? {}) as Record<string, number>;
    return {
      cases,
      crashes: server.crashes,
      crashOutput: server.crashOutput,
      honest: { rounds: honest.rounds, failures: honest.failures, errors: honest.errors },
      healthz: { samples: probe.latencies.length, failures: probe.failures, p50: probe.percentile(50), p99: probe.percentile(99), max: probe.percentile(100) },
      outcomes,
      loopDelay: final?.loopDelay as AbuseReport['loopDelay'],
      phases: marks.slice(0, -1).map(([phase, from], i) => {
        const to = marks[i + 1][1];
        return {
          phase,
          samples: probe.samples.filter(([t]) => t >= from && t < to).length,
          p99: probe.percentile(99, from, to),
          max: probe.percentile(100, from, to),
        };
      }),
    };
  } finally {
    await honest.stop();
    await probe.stop();
    sinkSocket?.terminate();
    await server.stop();
  }
}

/** Who the fuzz cases aim their signals and joins at. */
export const TARGETS: Targets = { room: ROOM, peers: ['honest-a', 'honest-b', 'sink', 'validator'] };

export { abuseCases };
