// Checkpoint sync between Node peers over WebRTC: a model spread over several 256 KiB chunks
// arrives from two neighbours and verifies; bytes that do not hash to the manifest's value
// are refused whole, a neighbour that dies mid-transfer is replaced by another, and a
// neighbour sending a wrong-sized chunk is dropped.
import { afterEach, describe, expect, it } from 'vitest';
import { ContributionExchange } from '../../src/p2p/exchange';
import { modelHash } from '../../src/protocol/hash';
import { decodeWire, encodeWire } from '../../src/protocol/wire';
import { CheckpointServer, CheckpointSyncError, fetchCheckpoint } from '../../src/swarm/checkpointSync';
import { assertPrivateNetwork } from '../support/privateNetwork';
import { randomFloats } from '../support/random';
import { Harness, until } from '../support/swarmHarness';

const h = new Harness();
afterEach(() => h.cleanup());

async function trio() {
  assertPrivateNetwork();
  const url = await h.signalingUrl();
  const [a, b, c] = ['a', 'b', 'c'].map((n) => h.peer(url, n));
  await until(() => [a, b, c].every((m) => m.neighbours().length === 2));
  const exchanges = [a, b, c].map((mesh) => new ContributionExchange({ mesh, runId: 'sync' }));
  h.defer(() => exchanges.forEach((x) => x.close()));
  return { meshes: [a, b, c], exchanges };
}

/** Peers `which` of the trio hold `theta` as θ_window and serve it until the test ends. */
function serve(t: Awaited<ReturnType<typeof trio>>, which: number[], window: number, theta: Float32Array): void {
  for (const i of which) {
    const server = new CheckpointServer(t.exchanges[i], t.meshes[i]);
    server.hold(window, theta);
    h.defer(() => server.close());
  }
}

describe('checkpoint sync', () => {
  it('pulls a multi-chunk model from two neighbours and verifies its hash', async () => {
    const { meshes, exchanges } = await trio();
    const theta = randomFloats(200_000, 4); // 800 KB: 4 chunks
    serve({ meshes, exchanges }, [1, 2], 5, theta);
    const progress: number[] = [];
    const got = await fetchCheckpoint({
      exchange: exchanges[0],
      mesh: meshes[0],
      window: 5,
      expectedHash: modelHash(theta),
      floats: theta.length,
      onProgress: (r) => progress.push(r),
    });
    expect(got).toEqual(theta);
    expect(progress).toEqual([1, 2, 3, 4]);
  });

  it('finishes from the other neighbour when one dies mid-transfer', async () => {
    const { meshes, exchanges } = await trio();
    const theta = randomFloats(1_000_000, 7); // 4 MB: 16 chunks
    serve({ meshes, exchanges }, [1, 2], 4, theta);
    // b serves two chunks, then its process is gone (its links close under the rest).
    let servedByB = 0;
    exchanges[1].on('other', (m) => {
      if (m.type === 'checkpoint-want' && ++servedByB === 2) setTimeout(() => meshes[1].close(), 0);
    });
    const progress: number[] = [];
    const chunksFrom = { b: 0, c: 0 };
    meshes[0].on('message', (from, bytes) => {
      if (decodeWire(bytes).type === 'checkpoint-chunk' && (from === 'b' || from === 'c')) chunksFrom[from]++;
    });
    const got = await fetchCheckpoint({
      exchange: exchanges[0],
      mesh: meshes[0],
      window: 4,
      expectedHash: modelHash(theta),
      floats: theta.length,
      requestTimeoutMs: 2000,
      onProgress: (r) => progress.push(r),
    });
    expect(servedByB).toBeGreaterThanOrEqual(2);
    // b died mid-transfer; c sent at least every chunk b did not.
    expect(chunksFrom.b).toBeLessThan(16);
    expect(chunksFrom.c).toBeGreaterThanOrEqual(16 - chunksFrom.b);
    // a notices b's links closing in its own time (the download may finish first).
    await until(() => meshes[0].neighbours().join() === 'c');
    expect(got).toEqual(theta);
    expect(progress).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
  });

  it('refuses bytes that do not match the manifest hash, and drops a wrong-sized chunk sender', async () => {
    const { meshes, exchanges } = await trio();
    const theta = randomFloats(100_000, 5);
    serve({ meshes, exchanges }, [1], 2, randomFloats(100_000, 6)); // serves another model
    // Every chunk arrived (b served all of them) and the whole was refused by its hash, not by a timeout.
    const progress: [number, number][] = [];
    const wrong = fetchCheckpoint({
      exchange: exchanges[0],
      mesh: meshes[0],
      window: 2,
      expectedHash: modelHash(theta),
      floats: theta.length,
      timeoutMs: 30_000,
      onProgress: (r, t) => progress.push([r, t]),
    });
    await expect(wrong).rejects.toThrow(CheckpointSyncError);
    await expect(wrong).rejects.toThrow(/^checkpoint for window 2 does not match the manifest hash$/);
    expect(progress).toEqual([
      [1, 2],
      [2, 2],
    ]);

    exchanges[2].on('other', (m, from) => {
      if (m.type === 'checkpoint-want')
        void meshes[2].send(from, encodeWire({ type: 'checkpoint-chunk', window: m.window, chunk: m.chunk, chunks: 2, data: new Uint8Array(10) }));
    });
    const counted: number[] = [];
    const pending = fetchCheckpoint({
      exchange: exchanges[0],
      mesh: meshes[0],
      window: 3,
      expectedHash: modelHash(theta),
      floats: theta.length,
      timeoutMs: 3000,
      onProgress: (r) => counted.push(r),
    });
    await until(() => meshes[0].isBanned('c'));
    // Nobody else holds window 3: it gives up on time with none of c's wrong-sized chunks counted.
    await expect(pending).rejects.toThrow(CheckpointSyncError);
    await expect(pending).rejects.toThrow(/^checkpoint for window 3: 0 of 2 chunks after \d+ s$/);
    expect(counted).toEqual([]);
  });
});
