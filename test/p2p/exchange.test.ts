// The contribution exchange between Node peers over WebRTC: an announced contribution reaches
// everyone with its payload verified; a peer that lies about a payload or sends garbage is
// dropped, and what it sent never counts.
import { afterEach, describe, expect, it } from 'vitest';
import { ContributionExchange } from '../../src/p2p/exchange';
import { toHex } from '../../src/protocol/bytes';
import { signContribution, signManifest, type Contribution, type ContributionFields } from '../../src/protocol/contribution';
import { contentHash } from '../../src/protocol/hash';
import { ed25519Signer } from '../../src/protocol/keys';
import { decodeWire, encodeWire } from '../../src/protocol/wire';
import { assertPrivateNetwork } from '../support/privateNetwork';
import { randomBytes } from '../support/random';
import { Harness, until } from '../support/swarmHarness';

const h = new Harness();
afterEach(() => h.cleanup());

function fieldsFor(payload: Uint8Array, window = 1): ContributionFields {
  return {
    runId: 'run-x',
    window,
    baseHash: new Uint8Array(32),
    payloadHash: contentHash(payload),
    payloadBytes: payload.length,
    peerAddress: 'peer',
    steps: 5,
    tokens: 640,
    certificate: new Uint8Array(0),
  };
}

describe('contribution exchange', () => {
  it('gossips headers, pulls payloads by id, verifies them, and drops liars', async () => {
    assertPrivateNetwork();
    const url = await h.signalingUrl();
    const names = ['a', 'b', 'c', 'liar'];
    const meshes = names.map((n) => h.peer(url, n));
    await until(() => meshes.every((m) => m.neighbours().length === 3));
    const got = new Map<string, string[]>(names.map((n) => [n, []]));
    const exchanges = meshes.map((mesh, i) => {
      const x = new ContributionExchange({ mesh, runId: 'run-x', accepts: (c: Contribution) => c.window === 1, pullTimeoutMs: 1000 });
      x.on('contribution', (c) => got.get(names[i])?.push(toHex(c.id).slice(0, 8)));
      h.defer(() => x.close());
      return x;
    });

    const payload = randomBytes(300_000, 1); // several 64 KiB frames
    const header = signContribution(fieldsFor(payload), ed25519Signer(new Uint8Array(32).fill(1)));
    exchanges[0].publish(header, payload);
    await until(() => ['b', 'c', 'liar'].every((n) => got.get(n)?.length === 1));
    expect(exchanges[1].get(header.id)?.payload).toEqual(payload);

    // The liar announces a signed header, then answers pulls with the wrong bytes.
    const honest = randomBytes(1000, 2);
    const lie = signContribution(fieldsFor(honest), ed25519Signer(new Uint8Array(32).fill(2)));
    const liarMesh = meshes[3];
    exchanges[3].close(); // it stops behaving like an exchange
    liarMesh.on('message', (from, bytes) => {
      if (bytes[0] === 2) void liarMesh.send(from, encodeWire({ type: 'payload', id: lie.id, payload: randomBytes(1000, 3) }));
    });
    await liarMesh.broadcast(encodeWire({ type: 'announce', contribution: lie.bytes }));
    await until(() => meshes.slice(0, 3).every((m) => !m.neighbours().includes('liar')));
    for (const x of exchanges.slice(0, 3)) expect(x.get(lie.id)).toBeUndefined();
    expect(meshes[0].isBanned('liar')).toBe(true);
  });

  it('drops a neighbour that sends garbage, and floods manifests once', async () => {
    assertPrivateNetwork();
    const url = await h.signalingUrl();
    const [a, b, c] = ['a', 'b', 'c'].map((n) => h.peer(url, n));
    await until(() => [a, b, c].every((m) => m.neighbours().length === 2));
    const [xa, xb, xc] = [a, b, c].map((mesh) => new ContributionExchange({ mesh, runId: 'run-x', accepts: () => true }));
    h.defer(() => [xa.close(), xb.close(), xc.close()]);
    const heard = { b: [] as string[], c: [] as string[] };
    xb.on('manifest', (m, from) => heard.b.push(`${m.window}<-${from}`));
    xc.on('manifest', (m, from) => heard.c.push(`${m.window}<-${from}`));
    // Every copy of the manifest that arrives anywhere, as `to<-from`. These listeners come
    // after the exchanges' own, so when one fires, that exchange has handled the copy.
    const copies: string[] = [];
    for (const [name, mesh] of [
      ['a', a],
      ['b', b],
      ['c', c],
    ] as const) {
      mesh.on('message', (from, bytes) => void (decodeWire(bytes).type === 'manifest' && copies.push(`${name}<-${from}`)));
    }
    const m = signManifest(
      { runId: 'run-x', window: 4, baseHash: new Uint8Array(32), accepted: [], outerLr: 1, nextHash: new Uint8Array(32) },
      ed25519Signer(new Uint8Array(32).fill(3)),
    );
    xa.publishManifest(m);
    // Flooded once, a triangle carries exactly four copies: a's two, then one from each of b
    // and c, sent on its first copy to the neighbour it did not get it from. When all four
    // have arrived and been handled, nothing else is in flight; each later copy was dropped.
    await until(() => copies.length >= 4);
    expect(copies, copies.join(' ')).toHaveLength(4);
    expect(copies.filter((x) => x.endsWith('<-a')).sort()).toEqual(['b<-a', 'c<-a']);
    expect(heard.b, 'b took the manifest once').toHaveLength(1);
    expect(heard.c, 'c took the manifest once').toHaveLength(1);
    expect(heard.b[0]).toMatch(/^4<-[ac]$/);
    expect(heard.c[0]).toMatch(/^4<-[ab]$/);

    await c.send('a', Uint8Array.of(77, 1, 2, 3));
    await until(() => !a.neighbours().includes('c'));
    expect(a.isBanned('c')).toBe(true);
  });
});
