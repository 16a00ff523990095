// The validator's status over HTTP: `GET /status` serves its ledger's snapshot (for the
// dashboard), and the app server relays it as `/api/status` so a tab needs one origin only.
import { createServer, type Server } from 'node:http';
import type { Ledger } from '../src/validator/ledger';

const JSON_HEADERS = { 'content-type': 'application/json', 'access-control-allow-origin': '*', 'cache-control': 'no-store' };
/** A snapshot is a few hundred rows; anything far larger is not a status answer. */
export const MAX_STATUS_BYTES = 4 * 2 ** 20;

export function serveStatus(ledger: Ledger, port: number, host: string, onListening?: (url: string) => void): Server {
  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url?.split('?')[0] === '/status') {
      res.writeHead(200, JSON_HEADERS);
      res.end(JSON.stringify(ledger.status()));
    } else {
      res.writeHead(404, JSON_HEADERS);
      res.end(JSON.stringify({ error: 'GET /status' }));
    }
  });
  server.listen(port, host, () => {
    const a = server.address();
    onListening?.(`http://${host}:${typeof a === 'object' && a ? a.port : port}/status`);
  });
  return server;
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
