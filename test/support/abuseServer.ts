// The server under abuse, in its own process so a crash is seen as an exit: assembled as
// src/node/serve.ts assembles `tessera serve` (the app server, then signaling on it), on loopback.
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createAppServer } from '../../server/appServer';
import { attachSignaling, type SignalingOptions, type SignalingServer } from '../../server/signaling';

export interface AbuseServerConfig {
  room: string;
  validatorKeys: string[];
  signaling?: Omit<SignalingOptions, 'log' | 'room' | 'validatorKeys'>;
}

// Anything that escapes a handler is a finding: say what, and exit so the parent counts it.
process.on('uncaughtException', (err) => {
  process.stderr.write(`UNCAUGHT ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(70);
});
process.on('unhandledRejection', (err) => {
  process.stderr.write(`UNHANDLED ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(71);
});

const config = JSON.parse(process.argv[2] ?? '{}') as AbuseServerConfig;
const distDir = mkdtempSync(join(tmpdir(), 'tessera-abuse-'));
writeFileSync(join(distDir, 'index.html'), '<!doctype html><title>abuse</title>');
const events: Record<string, number> = {};
const log = (e: Record<string, unknown>): void => {
  const key = e.event === 'signal-refused' ? `refused:${String(e.code)}` : String(e.event);
  events[key] = (events[key] ?? 0) + 1;
};
const holder: { signaling?: SignalingServer } = {};
// The server's own view of its stalls, apart from the time the OS gives to other processes.
const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();
const loopDelay = (): Record<string, number> => ({ p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 });
const server = createAppServer({ distDir, log: () => undefined, health: () => ({ signaling: holder.signaling?.stats(), events, loopDelay: loopDelay() }) });
holder.signaling = attachSignaling(server, { ...config.signaling, log, room: config.room, validatorKeys: config.validatorKeys });
server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`));
process.once('SIGTERM', () => process.exit(0));
