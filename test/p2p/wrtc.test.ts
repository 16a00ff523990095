// Two Node peers (simple-peer + @roamhq/wrtc) connect over a real data channel inside the
// private network namespace and round-trip a 1 MiB binary message byte for byte.
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { createPeerLink, type PeerLink, type WrtcImplementation } from '../../src/p2p/peerLink';
import { randomBytes } from '../support/random';
import { assertPrivateNetwork } from '../support/privateNetwork';

const wrtc = createRequire(import.meta.url)('@roamhq/wrtc') as WrtcImplementation;

describe('Node peers over @roamhq/wrtc', () => {
  const links: PeerLink[] = [];
  afterEach(() => links.splice(0).forEach((l) => l.close()));

  it('round-trips 1 MiB byte for byte', async () => {
    assertPrivateNetwork();
    const a = createPeerLink({ initiator: true, wrtc });
    const b = createPeerLink({ initiator: false, wrtc });
    links.push(a, b);
    // The test is the signaling server: hand each side's offer/answer/candidates to the other.
    a.onSignal((s) => b.signal(s));
    b.onSignal((s) => a.signal(s));
    b.onMessage((m) => void b.send(m)); // echo
    const echoed = new Promise<Uint8Array>((resolve) => a.onMessage(resolve));
    await Promise.all([a.connected, b.connected]);

    const message = randomBytes(1 << 20, 42);
    await a.send(message);
    const back = await echoed;
    expect(back.byteLength).toBe(message.byteLength);
    expect(Buffer.compare(Buffer.from(back), Buffer.from(message))).toBe(0);
  });

  it('drops a peer that sends a malformed frame', async () => {
    assertPrivateNetwork();
    const a = createPeerLink({ initiator: true, wrtc });
    const b = createPeerLink({ initiator: false, wrtc, limits: { maxMessageBytes: 1024 } });
    links.push(a, b);
    a.onSignal((s) => b.signal(s));
    b.onSignal((s) => a.signal(s));
    const error = new Promise<Error>((resolve) => b.onError(resolve));
    const closed = new Promise<void>((resolve) => b.onClose(resolve));
    await Promise.all([a.connected, b.connected]);
    await a.send(new Uint8Array(4096)); // over b's 1 KiB cap
    expect((await error).message).toMatch(/exceeds the 1024-byte cap/);
    await closed;
  });
});
