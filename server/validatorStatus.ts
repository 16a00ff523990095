// The validator's status over HTTP: `GET /status` serves its ledger's snapshot and
// `GET /status/history?after=W` the per-window series after W (for the dashboard's charts),
// `GET /status/address?address=A` one address's record by window (the Wallet page's);
// `GET /status/model` the latest verified model as ONNX (the Dashboard's "Try the model");
// the app server relays all of them under `/api/status` and `/api/model`, so a tab needs one origin only.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Ledger } from '../src/validator/ledger';
import type { ModelSnapshot } from '../src/validator/latestModel';
import { ADDRESS_PATTERN } from '../src/validator/status';
import { guarded, HTTP_TIMEOUTS, refuseMalformedRequests, requestUrl } from './httpSafety';

const JSON_HEADERS = { 'content-type': 'application/json', 'access-control-allow-origin': '*', 'cache-control': 'no-store' };
/** A snapshot is a few hundred rows; anything far larger is not a status answer. */
export const MAX_STATUS_BYTES = 4 * 2 ** 20;

/** Headers of a model answer: which θ it is and how to read its tokens (URI-encoded JSON: header values are ASCII). */
export const MODEL_HEADERS = {
  window: 'x-tessera-window',
  hash: 'x-tessera-model-hash',
  tokenizer: 'x-tessera-tokenizer',
  context: 'x-tessera-context',
} as const;

export function serveStatus(
  ledger: Ledger,
  port: number,
  host: string,
  onListening?: (url: string) => void,
  log: (event: Record<string, unknown>) => void = () => undefined,
  model?: () => ModelSnapshot,
): Server {
  const route = (req: IncomingMessage, res: ServerResponse): void => {
    const answer = (code: number, body: unknown): void => {
      res.writeHead(code, JSON_HEADERS);
      res.end(JSON.stringify(body));
    };
    const url = requestUrl(req.url);
    if (!url) return answer(400, { error: 'bad request target' });
    if (req.method !== 'GET') return answer(405, { error: 'GET /status, /status/history?after=W, /status/address?address=SS58 or /status/model' });
    if (url.pathname === '/status') return answer(200, ledger.status());
    if (url.pathname === '/status/model') {
      if (!model) return answer(404, { error: 'this validator serves no model' });
      const m = model();
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'cache-control': 'no-store',
        'content-length': String(m.onnx.length),
        [MODEL_HEADERS.window]: String(m.window),
        [MODEL_HEADERS.hash]: m.hash,
        [MODEL_HEADERS.tokenizer]: encodeURIComponent(JSON.stringify(m.tokenizer)),
        [MODEL_HEADERS.context]: String(m.contextLength),
      });
      res.end(m.onnx);
      return;
    }
    if (url.pathname === '/status/history') {
      const after = historyAfter(url.searchParams.get('after'));
      return after === undefined ? answer(400, { error: 'after must be an integer window ≥ -1' }) : answer(200, ledger.history(after));
    }
    if (url.pathname === '/status/address') {
      const address = url.searchParams.get('address') ?? '';
      return ADDRESS_PATTERN.test(address) ? answer(200, ledger.addressHistory(address)) : answer(400, { error: 'address must be an SS58 address' });
    }
    answer(404, { error: 'GET /status, /status/history?after=W, /status/address?address=SS58 or /status/model' });
  };
  const server = createServer(HTTP_TIMEOUTS, guarded(route, log));
  refuseMalformedRequests(server, log);
  server.listen(port, host, () => {
    const a = server.address();
    onListening?.(`http://${host}:${typeof a === 'object' && a ? a.port : port}/status`);
  });
  return server;
}

/** The `after` query parameter: absent means from the start; anything but an integer ≥ -1 is refused. */
export function historyAfter(raw: string | null): number | undefined {
  if (raw === null || raw === '') return -1;
  if (!/^-?\d{1,10}$/.test(raw)) return undefined;
  const n = Number(raw);
  return n >= -1 ? n : undefined;
}

/** Fetches a validator's status with a timeout and a size cap; throws with the reason. */
export async function fetchValidatorStatus(url: string, timeoutMs = 3000): Promise<unknown> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`validator status ${url} answered ${res.status}`);
  const text = await res.text();
  if (text.length > MAX_STATUS_BYTES) throw new Error(`validator status is ${text.length} bytes, over ${MAX_STATUS_BYTES}`);
  const value: unknown = JSON.parse(text);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('validator status is not a JSON object');
  return value;
}
