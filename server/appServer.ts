// HTTP server for the built web app: static files from dist/ with client-side-route fallback,
// security headers on every answer, a cached validator-status relay, and no input that crashes it.
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { ADDRESS_PATTERN } from '../src/validator/status';
import { guarded, HTTP_TIMEOUTS, refuseMalformedRequests, requestUrl } from './httpSafety';
import { StatusRelay, type RelayOptions } from './statusRelay';
import { ModelRelay, type ModelRelayOptions } from './modelRelay';
import { historyAfter, MODEL_HEADERS } from './validatorStatus';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
  '.ico': 'image/x-icon',
};

export interface AppServerOptions {
  distDir: string;
  log?: (event: Record<string, unknown>) => void;
  /** Extra fields for /healthz (e.g. the signaling endpoint's room and peer counts). */
  health?: () => Record<string, unknown>;
  /** The run this server hosts, published at /api/run as {run} so a tab can join it. */
  run?: unknown;
  /** A validator's status URL, relayed at /api/status (the dashboard reads it). */
  validatorStatus?: string;
  /** How the status relay caches (tests set it; the defaults suit a public server). */
  statusRelay?: RelayOptions;
  /** The `/api/model` relay's size cap and freshness. */
  modelRelay?: ModelRelayOptions;
  /** PEM certificate chain and key: serve HTTPS (and so wss:// signaling) instead of HTTP. */
  tls?: { cert: string; key: string };
}

/**
 * Sent with every answer. The page holds a session key that signs for a wallet, so no script
 * but the app's own may run (no inline script, no eval; WebAssembly for sr25519 and
 * onnxruntime), it talks only to its own origin (HTTP, and the WebSocket signaling under it),
 * and no other site may frame it.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': [
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "worker-src 'self'",
    "connect-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; '),
  'referrer-policy': 'no-referrer',
  // Only what the app uses: WebGPU needs no permission; a screen wake lock while training.
  'permissions-policy':
    'camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), hid=(), bluetooth=(), midi=(), display-capture=(), screen-wake-lock=(self)',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
};

export function createAppServer(options: AppServerOptions): Server {
  const root = resolve(options.distDir);
  const index = join(root, 'index.html');
  if (!existsSync(index)) throw new Error(`no built app at ${root} (index.html missing): run \`npm run build\` first`);
  const log = options.log ?? (() => undefined);
  const started = Date.now();
  const relay = options.validatorStatus === undefined ? undefined : new StatusRelay(options.statusRelay);
  const models = options.validatorStatus === undefined ? undefined : new ModelRelay(`${options.validatorStatus.replace(/\/$/, '')}/model`, options.modelRelay);

  const route = (req: IncomingMessage, res: ServerResponse): void => {
    const url = requestUrl(req.url);
    if (!url) return send(res, 400, 'text/plain', 'bad request target');
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'method not allowed');
    if (url.pathname === '/api/run') {
      return options.run === undefined
        ? send(res, 404, 'application/json', JSON.stringify({ error: 'this server hosts no swarm run (start it with --run FILE)' }))
        : send(res, 200, 'application/json', JSON.stringify({ run: options.run }));
    }
    if (url.pathname === '/api/status' || url.pathname.startsWith('/api/status/')) {
      if (options.validatorStatus === undefined || !relay)
        return send(res, 404, 'application/json', JSON.stringify({ error: 'this server relays no validator (start it with --validator-status URL)' }));
      const target = relayTarget(options.validatorStatus, url);
      if (typeof target !== 'string') return send(res, target.status, 'application/json', JSON.stringify({ error: target.error }));
      relay.get(target).then(
        (answer) => send(res, 200, 'application/json', answer.body, { 'x-status-age-ms': String(answer.ageMs) }),
        (err: unknown) =>
          send(res, 502, 'application/json', JSON.stringify({ error: `validator unreachable: ${err instanceof Error ? err.message : String(err)}` })),
      );
      return;
    }
    if (url.pathname === '/api/model') {
      if (!models)
        return send(res, 404, 'application/json', JSON.stringify({ error: 'this server relays no validator (start it with --validator-status URL)' }));
      models.get().then(
        (m) => {
          res.writeHead(200, {
            ...SECURITY_HEADERS,
            'content-type': 'application/octet-stream',
            'cache-control': 'no-store',
            'content-length': String(m.onnx.length),
            [MODEL_HEADERS.window]: String(m.window),
            [MODEL_HEADERS.hash]: m.hash,
            [MODEL_HEADERS.tokenizer]: encodeURIComponent(m.tokenizer),
            [MODEL_HEADERS.context]: String(m.contextLength),
          });
          res.end(req.method === 'HEAD' ? undefined : m.onnx);
        },
        (err: unknown) =>
          send(res, 502, 'application/json', JSON.stringify({ error: `no model from the validator: ${err instanceof Error ? err.message : String(err)}` })),
      );
      return;
    }
    if (url.pathname === '/healthz')
      return send(
        res,
        200,
        'application/json',
        JSON.stringify({
          ok: true,
          uptimeSeconds: Math.round((Date.now() - started) / 1000),
          ...(relay ? { statusUpstreamReads: relay.upstreamReads } : {}),
          ...(models ? { modelUpstreamReads: models.upstreamReads } : {}),
          ...options.health?.(),
        }),
      );
    const file = resolveFile(root, url.pathname) ?? index; // unknown paths are client-side routes
    const type = MIME[extname(file)] ?? 'application/octet-stream';
    // Hashed assets never change; index.html must be revalidated to pick up new builds.
    const cache = file.includes(`${sep}assets${sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache';
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': type, 'cache-control': cache });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const stream = createReadStream(file);
    stream.on('error', () => res.destroy());
    stream.pipe(res);
    log({ event: 'http', path: url.pathname, status: 200 });
  };
  const handler = guarded(route, log);
  // A bad certificate or key throws here, at start, with OpenSSL's reason.
  const server = options.tls
    ? createTlsServer({ cert: options.tls.cert, key: options.tls.key, ...HTTP_TIMEOUTS }, handler)
    : createServer(HTTP_TIMEOUTS, handler);
  refuseMalformedRequests(server, log);
  server.on('close', () => relay?.clear());
  return server;
}

/**
 * The validator URL a relayed status request goes to: only these paths, with parameters
 * checked and re-formatted here, so the relay cannot be steered to anything else.
 */
function relayTarget(base: string, url: URL): string | { status: number; error: string } {
  const root = base.replace(/\/$/, '');
  if (url.pathname === '/api/status') return base;
  if (url.pathname === '/api/status/history') {
    const after = historyAfter(url.searchParams.get('after'));
    return after === undefined ? { status: 400, error: 'after must be an integer window ≥ -1' } : `${root}/history?after=${after}`;
  }
  if (url.pathname === '/api/status/address') {
    const address = url.searchParams.get('address') ?? '';
    return ADDRESS_PATTERN.test(address) ? `${root}/address?address=${address}` : { status: 400, error: 'address must be an SS58 address' };
  }
  return { status: 404, error: 'GET /api/status, /api/status/history?after=W or /api/status/address?address=SS58' };
}

function resolveFile(root: string, pathname: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  const candidate = normalize(join(root, decoded));
  if (candidate !== root && !candidate.startsWith(root + sep)) return undefined;
  return existsSync(candidate) && statSync(candidate).isFile() ? candidate : undefined;
}

function send(res: ServerResponse, status: number, type: string, body: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'cache-control': 'no-store', ...extra });
  res.end(body);
}
