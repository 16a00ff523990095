// A raw signaling socket for tests and the abuse bench: speaks the protocol by hand (signed
// joins included) so it can send what a real client never would, from a chosen source address.
import WebSocket from 'ws';
import type { PeerRole } from '../../src/p2p/signalingProtocol';
import { signedJoin } from '../../src/p2p/signalingProtocol';
import { toHex } from '../../src/protocol/bytes';
import { randomSigner, type Signer } from '../../src/protocol/keys';

export interface RawSignal {
  ws: WebSocket;
  /** Everything the server sent but its hello, parsed. */
  messages: Record<string, unknown>[];
  /** The hello's nonce, once it came. */
  nonce: Promise<string>;
  /** The close code. */
  closed: Promise<number>;
  /** Sends a join signed over this connection's nonce (by a fresh key unless one is given); nothing once closed. */
  join(room: string, peerId: string, options?: { signer?: Signer; role?: PeerRole }): Promise<void>;
  /** Resolves with the first message so far or to come that satisfies `match`. */
  next(match?: (m: Record<string, unknown>) => boolean, ms?: number): Promise<Record<string, unknown>>;
}

/** The join message a client signs over `nonce`. */
export function joinMessage(nonce: string, room: string, peerId: string, signer: Signer, role: PeerRole = 'peer'): string {
  const auth = { scheme: signer.scheme, publicKey: toHex(signer.publicKey), signature: toHex(signer.sign(signedJoin(nonce, room, peerId))) };
  return JSON.stringify({ type: 'join', room, peerId, role, auth });
}

/** Opens a raw socket to `url`; `localAddress` (e.g. 127.0.0.7) picks the address the server sees. */
export async function rawSignal(url: string, options: { localAddress?: string; headers?: Record<string, string> } = {}): Promise<RawSignal> {
  const ws = new WebSocket(url, { localAddress: options.localAddress, headers: options.headers });
  const messages: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  let gotNonce: (n: string) => void = () => undefined;
  const nonce = new Promise<string>((resolve) => (gotNonce = resolve));
  ws.on('message', (d: Buffer) => {
    const m = JSON.parse(d.toString()) as Record<string, unknown>;
    if (m.type === 'hello') gotNonce(m.nonce as string);
    else messages.push(m);
    for (const w of waiters) w();
  });
  const closed = new Promise<number>((resolve) => ws.on('close', (code: number) => resolve(code)));
  let failure = 'closed before it opened';
  ws.on('error', (err) => (failure = err.message)); // 'close' follows
  // A refused upgrade (429 at the connection cap) fails here: "Unexpected server response: 429".
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('close', () => reject(new Error(failure)));
  });
  const next = (match: (m: Record<string, unknown>) => boolean = () => true, ms = 5000): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const found = messages.find(match);
        if (!found) return;
        cleanup();
        resolve(found);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no matching message in ${ms} ms; got ${JSON.stringify(messages).slice(0, 300)}`));
      }, ms);
      const cleanup = (): void => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  return {
    ws,
    messages,
    nonce,
    closed,
    next,
    join: async (room, peerId, o = {}) => {
      // A connection refused at once (over its address's cap) gets no hello, only an error.
      const n = await Promise.race([nonce, closed.then(() => undefined)]);
      if (n !== undefined && ws.readyState === WebSocket.OPEN) ws.send(joinMessage(n, room, peerId, o.signer ?? randomSigner(), o.role));
    },
  };
}
