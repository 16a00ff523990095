// Debian's coturn for relay tests, inside the private network namespace: TURN REST auth with
// a shared secret (as docs/DEPLOY.md sets it up), UDP only, its log kept for assertions.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const TURNSERVER = '/usr/bin/turnserver';

export interface Coturn {
  url: string;
  log(): string;
  stop(): Promise<void>;
}

export async function startCoturn(o: { ip: string; port: number; secret: string; realm?: string }): Promise<Coturn> {
  if (!existsSync(TURNSERVER))
    throw new Error(`${TURNSERVER} is missing: install Debian's coturn (apt-get install coturn; npm test's bootstrap does when run as root)`);
  const dir = mkdtempSync(join(tmpdir(), 'tessera-coturn-'));
  const args = [
    '-n',
    `--listening-ip=${o.ip}`,
    `--relay-ip=${o.ip}`,
    `--listening-port=${o.port}`,
    '--use-auth-secret',
    `--static-auth-secret=${o.secret}`,
    `--realm=${o.realm ?? 'tessera.test'}`,
    '--no-tls',
    '--no-dtls',
    '--no-tcp-relay',
    '--no-cli',
    '--fingerprint',
    '--min-port=49160',
    '--max-port=49260',
    `--pidfile=${join(dir, 'turnserver.pid')}`,
    `--userdb=${join(dir, 'turndb')}`,
    '--log-file=stdout',
    '--simple-log',
    '--verbose',
  ];
  const child = spawn(TURNSERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const end = Date.now() + 10_000;
  while (!log.includes('Total General servers')) {
    if (child.exitCode !== null || Date.now() > end) {
      // A turnserver that is slow to start must not outlive the test that gave up on it.
      child.kill('SIGKILL');
      await exited;
      throw new Error(`coturn did not start: ${log.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: `turn:${o.ip}:${o.port}?transport=udp`,
    log: () => log,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
