// What every HTTP endpoint of Tessera does so that no request can crash its process or hold a
// connection forever: parse targets defensively, catch what a handler throws, cut slow clients.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/** Slow clients are cut off well before Node's defaults (70 s for headers, 300 s a request). */
export const HTTP_TIMEOUTS = { headersTimeout: 10_000, requestTimeout: 30_000, keepAliveTimeout: 5_000, connectionsCheckingInterval: 1_000 } as const;

type Log = (event: Record<string, unknown>) => void;

/** The request target as a URL, or undefined where it is not one (`GET http://a:99999/` threw before). */
export function requestUrl(target: string | undefined): URL | undefined {
  try {
    return new URL(target ?? '/', 'http://localhost');
  } catch {
    return undefined;
  }
}

/** Last resort: a request whose handler throws gets a 500 and a log line; the server goes on. */
export function guarded(route: (req: IncomingMessage, res: ServerResponse) => void, log: Log): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    try {
      route(req, res);
    } catch (err) {
      log({ event: 'http-error', path: String(req.url).slice(0, 200), message: err instanceof Error ? err.message : String(err) });
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain', 'cache-control': 'no-store' });
        res.end('internal error');
      } else res.destroy();
    }
  };
}

/** Malformed request lines and headers: answer 400 and drop that connection only. */
export function refuseMalformedRequests(server: Server, log: Log): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    log({ event: 'http-client-error', code: err.code, message: err.message });
    // A socket already answering a request must not get a second status line.
    if (socket.writable && !(socket as { _httpMessage?: unknown })._httpMessage) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy();
  });
}
