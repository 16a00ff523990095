// `tessera serve`: serves the built app and the signaling endpoint (/signal) on one port
// (loopback by default), logs structured JSON lines, and shuts down cleanly on Ctrl-C.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAppServer } from './appServer';
import { attachSignaling, type SignalingServer } from './signaling';
import { loadRunConfig } from '../src/node/runFile';
import type { RunConfig } from '../src/swarm/runConfig';

interface ServeArgs {
  host: string;
  port: number;
  distDir: string;
  run?: RunConfig;
  validatorStatus?: string;
}

function parseArgs(argv: string[]): ServeArgs {
  const args: ServeArgs = {
    host: process.env.HOST ?? '127.0.0.1',
    port: Number(process.env.PORT ?? 8080),
    distDir: join(dirname(fileURLToPath(import.meta.url)), '..', 'dist'),
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--port') args.port = Number(value);
    else if (flag === '--host') args.host = value;
    else if (flag === '--dist') args.distDir = value;
    else if (flag === '--run') args.run = loadRunConfig(value);
    else if (flag === '--validator-status') args.validatorStatus = new URL(value).href;
    else throw new Error(`unknown option ${flag} (options: --port N, --host ADDR, --dist DIR, --run FILE, --validator-status URL)`);
    i++;
  }
  if (!Number.isInteger(args.port) || args.port < 0 || args.port > 65535) throw new Error(`--port must be an integer 0-65535, got ${args.port}`);
  return args;
}

function main(): void {
  let args: ServeArgs;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`[tessera] ${(err as Error).message}`);
    process.exit(2);
  }
  const log = (event: Record<string, unknown>): void => {
    if (event.event !== 'http') console.log(JSON.stringify({ ts: new Date().toISOString(), ...event }));
  };
  const holder: { signaling?: SignalingServer } = {};
  const server = createAppServer({ distDir: args.distDir, log, run: args.run, validatorStatus: args.validatorStatus, health: () => ({ signaling: holder.signaling?.stats(), run: args.run?.runId }) });
  const signaling = attachSignaling(server, { log });
  holder.signaling = signaling;
  server.on('error', (err: NodeJS.ErrnoException) => {
    const why = err.code === 'EADDRINUSE' ? `port ${args.port} is already in use: stop the other process or pass --port N (or PORT=N)` : err.message;
    console.error(`[tessera] cannot serve: ${why}`);
    process.exit(1);
  });
  server.listen(args.port, args.host, () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : args.port;
    const host = args.host === '0.0.0.0' ? '127.0.0.1' : args.host;
    console.log(`[tessera] app ready at http://${host}:${port}/  signaling at ws://${host}:${port}/signal  (Ctrl-C to stop)`);
  });
  const stop = (): void => {
    console.log('[tessera] stopping');
    void signaling.close();
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main();
