// Checkpoint sync: replicas serve the model they hold in 256 KiB chunks; a newcomer (or a peer
// that fell out of sync) pulls the chunks from several neighbours at once, re-asks another
// when one goes quiet, and accepts the model only if it hashes to the manifest's value.
import type { ContributionExchange } from '../p2p/exchange';
import type { Mesh } from '../p2p/mesh';
import { equalBytes } from '../protocol/bytes';
import { modelHash } from '../protocol/hash';
import { CHECKPOINT_CHUNK_BYTES, encodeWire } from '../protocol/wire';
import { systemClock, type Clock } from '../protocol/clock';

/** Serves the models this replica holds (current and previous window) to neighbours. */
export class CheckpointServer {
  private readonly held = new Map<number, Uint8Array>();
  private readonly unsubscribe: () => void;

  constructor(exchange: ContributionExchange, mesh: Mesh) {
    this.unsubscribe = exchange.on('other', (m, from) => {
      if (m.type !== 'checkpoint-want') return;
      const bytes = this.held.get(m.window);
      if (!bytes) return;
      const chunks = Math.ceil(bytes.length / CHECKPOINT_CHUNK_BYTES);
      if (m.chunk >= chunks) return;
      const data = bytes.subarray(m.chunk * CHECKPOINT_CHUNK_BYTES, (m.chunk + 1) * CHECKPOINT_CHUNK_BYTES);
      void mesh.send(from, encodeWire({ type: 'checkpoint-chunk', window: m.window, chunk: m.chunk, chunks, data })).catch(() => undefined);
    });
  }

  /** θ at the start of `window`; the previous window's stays available for slow downloads. */
  hold(window: number, theta: Float32Array): void {
    this.held.set(window, new Uint8Array(theta.buffer.slice(theta.byteOffset, theta.byteOffset + theta.byteLength)));
    for (const w of this.held.keys()) if (w < window - 1) this.held.delete(w);
  }

  close(): void {
    this.unsubscribe();
  }
}

export class CheckpointSyncError extends Error {}

export interface FetchCheckpointOptions {
  exchange: ContributionExchange;
  /** Request timeouts and the overall deadline; default: the system clock. */
  clock?: Clock;
  mesh: Mesh;
  window: number;
  /** The manifest's hash for θ_window: the only proof the bytes are right. */
  expectedHash: Uint8Array;
  floats: number;
  /** Chunk requests in flight per neighbour. */
  perNeighbour?: number;
  requestTimeoutMs?: number;
  /** Gives up after this long (the caller retries with a newer manifest). */
  timeoutMs?: number;
  onProgress?: (received: number, total: number) => void;
}

export function fetchCheckpoint(o: FetchCheckpointOptions): Promise<Float32Array> {
  const total = Math.ceil((o.floats * 4) / CHECKPOINT_CHUNK_BYTES);
  const bytes = new Uint8Array(o.floats * 4);
  const have = new Uint8Array(total);
  const asked = new Map<number, { from: string; at: number }>();
  let received = 0;
  const perNeighbour = o.perNeighbour ?? 4;
  const requestTimeout = o.requestTimeoutMs ?? 4000;
  const clock = o.clock ?? systemClock;

  return new Promise<Float32Array>((resolve, reject) => {
    const started = clock.now();
    const finish = (err?: Error): void => {
      clock.clearInterval(ticker);
      stop();
      if (err) return reject(err);
      const theta = new Float32Array(bytes.buffer);
      // A wrong chunk from any neighbour fails the whole model: it is never half-used.
      if (!equalBytes(modelHash(theta), o.expectedHash))
        return reject(new CheckpointSyncError(`checkpoint for window ${o.window} does not match the manifest hash`));
      resolve(theta);
    };
    const stop = o.exchange.on('other', (m, from) => {
      if (m.type !== 'checkpoint-chunk' || m.window !== o.window || have[m.chunk] || m.chunks !== total) return;
      const expectedLength = Math.min(CHECKPOINT_CHUNK_BYTES, bytes.length - m.chunk * CHECKPOINT_CHUNK_BYTES);
      if (m.data.length !== expectedLength) return o.mesh.punish(from, `checkpoint chunk ${m.chunk} has ${m.data.length} bytes, expected ${expectedLength}`);
      bytes.set(m.data, m.chunk * CHECKPOINT_CHUNK_BYTES);
      have[m.chunk] = 1;
      asked.delete(m.chunk);
      received++;
      o.onProgress?.(received, total);
      if (received === total) finish();
      else request();
    });
    // Spread requests over neighbours; a request older than the timeout goes to someone else.
    // A neighbour that let a request time out (it may not hold this window) is asked last.
    const timeouts = new Map<string, number>();
    const request = (): void => {
      const now = clock.now();
      for (const [chunk, a] of asked) {
        if (now - a.at > requestTimeout) timeouts.set(a.from, (timeouts.get(a.from) ?? 0) + 1);
        if (now - a.at > requestTimeout || !o.mesh.neighbours().includes(a.from)) asked.delete(chunk);
      }
      const load = new Map<string, number>(o.mesh.neighbours().map((n) => [n, 0]));
      for (const a of asked.values()) load.set(a.from, (load.get(a.from) ?? 0) + 1);
      const rank = ([peer, n]: [string, number]): number => n + perNeighbour * (timeouts.get(peer) ?? 0);
      for (let chunk = 0; chunk < total; chunk++) {
        if (have[chunk] || asked.has(chunk)) continue;
        const [from, n] = [...load].sort((x, y) => rank(x) - rank(y))[0] ?? [];
        if (from === undefined || (n ?? 0) >= perNeighbour) break;
        asked.set(chunk, { from, at: now });
        load.set(from, (n ?? 0) + 1);
        void o.mesh.send(from, encodeWire({ type: 'checkpoint-want', window: o.window, chunk })).catch(() => asked.delete(chunk));
      }
    };
    const ticker = clock.setInterval(() => {
      if (clock.now() - started > (o.timeoutMs ?? 120_000))
        finish(
          new CheckpointSyncError(`checkpoint for window ${o.window}: ${received} of ${total} chunks after ${Math.round((clock.now() - started) / 1000)} s`),
        );
      else request();
    }, 250);
    request();
  });
}
