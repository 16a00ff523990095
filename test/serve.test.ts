// `tessera serve` as an operator starts it: over TLS with a certificate (wss:// signaling a
// client verifies), and refusing a malformed run file or a TURN run without its secret at start.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

const MAIN = join(import.meta.dirname, '..', 'server', 'main.ts');
const dir = mkdtempSync(join(tmpdir(), 'tessera-serve-'));
writeFileSync(join(dir, 'index.html'), '<!doctype html><title>app</title>');
const RUN = {
  runId: 'serve-run', preset: 'tiny', seed: 1, startTime: 1_700_000_000_000, windowMs: 30_000, graceMs: 5000, uploadMarginMs: 2000, minSteps: 3,
  batchSize: 4, seqLen: 64, outerLr: 1, innerSchedule: { maxLr: 2e-3, minLr: 2e-4, warmupSteps: 20, decaySteps: 20_000 }, validatorKeys: ['ab'.repeat(32)],
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

/** Starts the server; resolves with the line it prints when ready, or rejects with what it said. */
function serve(args: string[], env: Record<string, string> = {}): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, '--dist', dir, '--port', '0', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const ready = out.split('\n').find((l) => l.includes('app ready at'));
      if (ready) resolve(ready);
    });
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => reject(new Error(`exit ${code}: ${out.trim()}`)));
  });
}

describe('tessera serve', () => {
  it('serves the app over HTTPS and signaling over wss:// with the given certificate', async () => {
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { encoding: 'utf8' });
    expect(made.status, made.stderr).toBe(0);
    const ready = await serve(['--tls-cert', cert, '--tls-key', key, '--run', runFile('run.json', RUN)]);
    const url = /wss:\/\/127\.0\.0\.1:(\d+)\/signal/.exec(ready);
    expect(url, ready).not.toBeNull();
    // The client trusts exactly this certificate: the handshake is verified, not skipped.
    const ws = new WebSocket(url?.[0] ?? '', { ca: readFileSync(cert) });
    const welcome = await new Promise<Record<string, unknown>>((resolve, reject) => {
      ws.on('open', () => ws.send(JSON.stringify({ type: 'join', room: 'serve-run', peerId: 'tab-1', role: 'peer' })));
      ws.on('message', (d: Buffer) => {
        const m = JSON.parse(d.toString()) as Record<string, unknown>;
        if (m.type !== 'hello') resolve(m); // the nonce for signed joins comes first
      });
      ws.on('error', reject);
    });
    ws.close();
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

  it('refuses half a TLS setup and a file that is not PEM', async () => {
    await expect(serve(['--tls-cert', join(dir, 'index.html')])).rejects.toThrow(/--tls-cert and --tls-key go together/);
    await expect(serve(['--tls-cert', join(dir, 'index.html'), '--tls-key', join(dir, 'index.html')])).rejects.toThrow(/is not PEM/);
  });
});
