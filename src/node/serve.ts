// `tessera serve`: serves the built app and the signaling endpoint (/signal) on one port
// (loopback by default), over TLS when given a certificate, handing out TURN credentials when
// given the TURN secret; logs structured JSON lines and shuts down cleanly on Ctrl-C.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAppServer } from '../../server/appServer';
import { attachSignaling, DEFAULT_TURN_TTL_SECONDS, type SignalingServer } from '../../server/signaling';
import { loadRunConfig, secretFrom } from './runFile';
import type { RunConfig } from '../protocol/runConfig';

interface ServeArgs {
  host: string;
  port: number;
  distDir: string;
  run?: RunConfig;
  validatorStatus?: string;
  tls?: { cert: string; key: string };
  turnSecret?: string;
  turnTtlSeconds: number;
  /** Behind a reverse proxy: log the client address it appends to X-Forwarded-For. */
  trustProxy?: boolean;
}

const OPTIONS =
  '--port N, --host ADDR, --dist DIR, --run FILE, --validator-status URL, --tls-cert FILE --tls-key FILE, --turn-secret FILE (or TESSERA_TURN_SECRET), --turn-ttl SECONDS, --trust-proxy';

function readPem(path: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`${what} ${path} cannot be read: ${(err as Error).message}`);
  }
  if (!text.includes('-----BEGIN ')) throw new Error(`${what} ${path} is not PEM (expected a -----BEGIN … block)`);
  return text;
}

const FLAGS_WITH_VALUES = ['--port', '--host', '--dist', '--run', '--validator-status', '--tls-cert', '--tls-key', '--turn-secret', '--turn-ttl'];

/**
 * The value after `flag`. A missing one is refused: it would leave a default in place
 * (`--host` last: the server binds where the operator did not say) or swallow the next flag
 * (`--turn-secret --run x`: the secret file is "--run").
 */
function valueOf(flag: string, value: string | undefined): string {
  if (!FLAGS_WITH_VALUES.includes(flag)) throw new Error(`unknown option ${flag} (options: ${OPTIONS})`);
  if (value === undefined || value.startsWith('--'))
    throw new Error(`${flag} needs a value${value === undefined ? '' : `, got the option ${value}`} (options: ${OPTIONS})`);
  return value;
}

function parseArgs(argv: string[]): ServeArgs {
  const args: ServeArgs = {
    host: process.env.HOST ?? '127.0.0.1',
    port: Number(process.env.PORT ?? 8080),
    distDir: join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist'),
    turnTtlSeconds: DEFAULT_TURN_TTL_SECONDS,
  };
  const files: { cert?: string; key?: string; turnSecret?: string } = {};
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--trust-proxy') {
      args.trustProxy = true;
      continue;
    }
    const value = valueOf(flag, argv[++i]);
    if (flag === '--port') args.port = Number(value);
    else if (flag === '--host') args.host = value;
    else if (flag === '--dist') args.distDir = value;
    else if (flag === '--run') args.run = loadRunConfig(value);
    else if (flag === '--validator-status') args.validatorStatus = new URL(value).href;
    else if (flag === '--tls-cert') files.cert = value;
    else if (flag === '--tls-key') files.key = value;
    else if (flag === '--turn-secret') files.turnSecret = value;
    else if (flag === '--turn-ttl') args.turnTtlSeconds = Number(value);
    else throw new Error(`unknown option ${flag} (options: ${OPTIONS})`);
  }
  if (!Number.isInteger(args.port) || args.port < 0 || args.port > 65535) throw new Error(`--port must be an integer 0-65535, got ${args.port}`);
  if ((files.cert === undefined) !== (files.key === undefined)) throw new Error('--tls-cert and --tls-key go together');
  if (files.cert !== undefined && files.key !== undefined) args.tls = { cert: readPem(files.cert, 'TLS certificate'), key: readPem(files.key, 'TLS key') };
  if (!Number.isInteger(args.turnTtlSeconds) || args.turnTtlSeconds < 60 || args.turnTtlSeconds > 7 * 86400)
    throw new Error('--turn-ttl must be an integer number of seconds, 60 to 604800');
  args.turnSecret = secretFrom(files.turnSecret, 'TESSERA_TURN_SECRET');
  if (args.run?.ice?.turn.length && !args.turnSecret)
    throw new Error(
      `the run lists TURN servers (${args.run.ice.turn.join(', ')}): give the TURN server's shared secret with --turn-secret FILE or TESSERA_TURN_SECRET`,
    );
  return args;
}

function main(): void {
  if (process.argv.slice(2).some((a) => a === '--help' || a === '-h')) {
    console.log(
      `usage: tessera serve [options]\n  serves the built app and /signal on one port (default 127.0.0.1:8080; HOST and PORT are read too)\n  options: ${OPTIONS}`,
    );
    return;
  }
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
  let server: ReturnType<typeof createAppServer>;
  let signaling: SignalingServer;
  try {
    server = createAppServer({
      distDir: args.distDir,
      log,
      run: args.run,
      validatorStatus: args.validatorStatus,
      tls: args.tls,
      health: () => ({ signaling: holder.signaling?.stats(), run: args.run?.runId }),
    });
    const ice = args.run?.ice ? { settings: args.run.ice, turnSecret: args.turnSecret, ttlSeconds: args.turnTtlSeconds } : undefined;
    // A server for one run signals for that run only: its TURN credentials are not for other rooms.
    // The run's validator keys alone may join as validators, and they keep reserved places in the room.
    signaling = attachSignaling(server, { log, ice, room: args.run?.runId, trustProxy: args.trustProxy, validatorKeys: args.run?.validatorKeys });
  } catch (err) {
    console.error(`[tessera] cannot serve: ${(err as Error).message}`);
    process.exit(1);
  }
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
    const [http, ws] = args.tls ? ['https', 'wss'] : ['http', 'ws'];
    const turn = args.run?.ice?.turn.length ? `  TURN credentials for ${args.run.ice.turn.join(', ')} (valid ${args.turnTtlSeconds} s)` : '';
    console.log(`[tessera] app ready at ${http}://${host}:${port}/  signaling at ${ws}://${host}:${port}/signal${turn}  (Ctrl-C to stop)`);
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
