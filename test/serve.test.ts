// `tessera serve` as an operator starts it: over TLS with a certificate (wss:// signaling a
// client verifies), and refusing a malformed run file or a TURN run without its secret at start.
import { spawn, spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { randomSigner } from '../src/protocol/keys';
import { joinMessage } from './support/rawSignal';
import { selfSignedCert } from './support/selfSignedCert';

const MAIN = join(import.meta.dirname, '..', 'src', 'node', 'serve.ts');
const dir = mkdtempSync(join(tmpdir(), 'tessera-serve-'));
writeFileSync(join(dir, 'index.html'), '<!doctype html><title>app</title>');
const RUN = {
  runId: 'serve-run',
  preset: 'tiny',
  seed: 1,
  startTime: 1_700_000_000_000,
  windowMs: 30_000,
  graceMs: 5000,
  uploadMarginMs: 2000,
  minSteps: 3,
  batchSize: 4,
  seqLen: 64,
  outerLr: 1,
  innerSchedule: { maxLr: 2e-3, minLr: 2e-4, warmupSteps: 20, decaySteps: 20_000 },
  validatorKeys: ['ab'.repeat(32)],
};
const children: ReturnType<typeof spawn>[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

function runFile(name: string, value: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(value));
  return path;
}

/** Everything each started server printed so far, by its ready line. */
const printed = new Map<string, () => string>();

/** Starts the server; resolves with the line it prints when ready, or rejects with what it said. */
function serve(args: string[], env: Record<string, string> = {}): Promise<string> {
  // A secret in the test runner's own environment must not reach a server meant to run without one.
  const childEnv = { ...process.env, ...env };
  if (env.TESSERA_TURN_SECRET === undefined) delete childEnv.TESSERA_TURN_SECRET;
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, '--dist', dir, '--port', '0', ...args], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const ready = out.split('\n').find((l) => l.includes('app ready at'));
      if (ready) {
        printed.set(ready, () => out);
        resolve(ready);
      }
    });
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => reject(new Error(`exit ${code}: ${out.trim()}`)));
  });
}

/** Joins `room` over a signaling WebSocket; resolves with the server's first answer after its hello. */
function joinRoom(url: string, room: string, peerId: string, options?: WebSocket.ClientOptions): Promise<Record<string, unknown>> {
  const ws = new WebSocket(url, options);
  return new Promise<Record<string, unknown>>((resolve, reject) => {
    ws.on('message', (d: Buffer) => {
      const m = JSON.parse(d.toString()) as Record<string, unknown>;
      // Joins are signed over the nonce the server's hello brings.
      if (m.type === 'hello') return ws.send(joinMessage(m.nonce as string, room, peerId, randomSigner()));
      ws.close();
      resolve(m);
    });
    ws.on('error', reject);
  });
}

describe('tessera serve', () => {
  it('serves the app over HTTPS and signaling over wss:// with the given certificate', async () => {
    const { cert, key } = selfSignedCert(dir);
    const ready = await serve(['--tls-cert', cert, '--tls-key', key, '--run', runFile('run.json', RUN)]);
    const url = /wss:\/\/127\.0\.0\.1:(\d+)\/signal/.exec(ready);
    expect(url, ready).not.toBeNull();
    // The client trusts exactly this certificate: the handshake is verified, not skipped.
    const welcome = await joinRoom(url?.[0] ?? '', 'serve-run', 'tab-1', { ca: readFileSync(cert) });
    expect(welcome).toMatchObject({ type: 'welcome', peerId: 'tab-1' });
    // A client that does not trust the certificate is refused by TLS itself.
    const untrusting = new WebSocket(url?.[0] ?? '');
    const refused = await new Promise<string>((resolve) => untrusting.on('error', (e) => resolve(e.message)));
    expect(refused).toMatch(/self[- ]signed|certificate/i);
  });

  it.each([
    [{ ...RUN, ice: { turn: ['turn:host:3478?transport=quic'] } }, {}, /run configuration: ice\.turn\[0\] must be a turn:HOST/],
    [{ ...RUN, windowMs: 'long' }, {}, /run configuration: windowMs must be an integer/],
    [{ ...RUN, ice: { turn: ['turn:10.0.0.2:3478'] } }, {}, /lists TURN servers \(turn:10\.0\.0\.2:3478\): give the TURN server's shared secret/],
    [{ ...RUN, ice: { turn: ['turn:10.0.0.2:3478'] } }, { TESSERA_TURN_SECRET: 'short' }, /TURN secret must be at least 16 characters/],
  ])('refuses a bad start (%#) with the field and the reason', async (run, env, why) => {
    await expect(serve(['--run', runFile('bad.json', run)], env)).rejects.toThrow(why);
  });

  it("hands a joining client the run's TURN server with a TURN REST credential made from TESSERA_TURN_SECRET", async () => {
    const secret = 'serve-test-turn-secret-0123456789';
    const ice = { stun: ['stun:10.0.0.2:3478'], turn: ['turn:10.0.0.2:3478?transport=udp'], relayOnly: true };
    const ready = await serve(['--run', runFile('turn.json', { ...RUN, ice })], { TESSERA_TURN_SECRET: secret });
    const url = /ws:\/\/127\.0\.0\.1:(\d+)\/signal/.exec(ready)?.[0] ?? '';
    const welcome = await joinRoom(url, 'serve-run', 'tab-1');
    expect(welcome).toMatchObject({ type: 'welcome', ice: { relayOnly: true, iceServers: [{ urls: ice.stun }, { urls: ice.turn }] } });
    const { username, credential } = (welcome.ice as { iceServers: { username?: string; credential?: string }[] }).iceServers[1];
    // coturn's use-auth-secret check: "<expiry>:<user>", base64(HMAC-SHA1(secret, username)).
    const [expiry, user] = (username ?? '').split(':');
    expect(user).toBe('tab-1');
    expect(Math.abs(Number(expiry) - (Date.now() / 1000 + 3600))).toBeLessThan(30);
    expect(credential).toBe(
      createHmac('sha1', secret)
        .update(username ?? '')
        .digest('base64'),
    );
    // The run's room only: another room would get the operator's relay for its own traffic.
    expect(await joinRoom(url, 'other-room', 'tab-2')).toMatchObject({ type: 'error', code: 'wrong-room' });
  });

  it('with --trust-proxy logs the client address the proxy appended to X-Forwarded-For', async () => {
    const ready = await serve(['--trust-proxy', '--run', runFile('proxied.json', RUN)]);
    const url = /ws:\/\/127\.0\.0\.1:(\d+)\/signal/.exec(ready)?.[0] ?? '';
    await joinRoom(url, 'serve-run', 'tab-1', { headers: { 'X-Forwarded-For': '198.51.100.7, 203.0.113.9' } });
    await expect.poll(() => printed.get(ready)?.() ?? '').toMatch(/"event":"signal-join","room":"serve-run","peerId":"tab-1".*"address":"203\.0\.113\.9"/);
  });

  it.each([
    [['--host'], /--host needs a value \(options:/],
    [['--turn-secret', '--run', 'run.json'], /--turn-secret needs a value, got the option --run/],
    [['--run'], /--run needs a value/],
    [['--bogus', 'x'], /unknown option --bogus/],
  ])('refuses a flag without its value: %j', async (args, why) => {
    await expect(serve(args)).rejects.toThrow(why);
  });

  it('--help prints the usage and every option, and serves nothing', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, '--help'], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^usage: tessera serve/);
    for (const flag of ['--port', '--host', '--run', '--tls-cert', '--turn-secret', '--trust-proxy']) expect(r.stdout).toContain(flag);
    expect(r.stdout).not.toContain('app ready at');
  });

  it('refuses half a TLS setup and a file that is not PEM', async () => {
    await expect(serve(['--tls-cert', join(dir, 'index.html')])).rejects.toThrow(/--tls-cert and --tls-key go together/);
    await expect(serve(['--tls-cert', join(dir, 'index.html'), '--tls-key', join(dir, 'index.html')])).rejects.toThrow(/is not PEM/);
  });
});
