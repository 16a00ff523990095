// Which ICE servers and policy the mesh dials with: the signaling server's (with TURN
// credentials) when it sends them, else the run file's STUN servers; and a relay-only run
// never dials directly, even through a bare signaling server that sends no ICE at all.
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Mesh } from '../../src/p2p/mesh';
import type { WrtcImplementation } from '../../src/p2p/peerLink';
import { SignalingClient, type SocketLike } from '../../src/p2p/signalingClient';
import { randomSigner } from '../../src/protocol/keys';
import type { IceSettings } from '../../src/protocol/runConfig';
import { assertPrivateNetwork } from '../support/privateNetwork';
import { Harness, until, wrtc } from '../support/swarmHarness';

const h = new Harness();
afterEach(() => h.cleanup());

/** Every RTCConfiguration a peer connection was created with (the real @roamhq/wrtc underneath). */
function recordingWrtc(): { wrtc: WrtcImplementation; configs: RTCConfiguration[] } {
  const configs: RTCConfiguration[] = [];
  const real = wrtc as NonNullable<WrtcImplementation>;
  class Recording extends real.RTCPeerConnection {
    constructor(config?: RTCConfiguration) {
      super(config);
      configs.push(config ?? {});
    }
  }
  return { wrtc: { ...real, RTCPeerConnection: Recording }, configs };
}

function meshPeer(url: string, id: string, runIce: IceSettings | undefined, w: WrtcImplementation): { mesh: Mesh; refusals: string[]; joined: Promise<void> } {
  const signaling = new SignalingClient({ url, room: 'ice-run', peerId: id, signer: randomSigner(), socket: (u) => new WebSocket(u) as unknown as SocketLike });
  const mesh = new Mesh({ signaling, selfId: id, wrtc: w, runIce, connectTimeoutMs: 10_000 });
  const refusals: string[] = [];
  mesh.on('relay-unavailable', (reason) => refusals.push(reason));
  // In the room (welcomed): the next peer to join finds this one there and dials it.
  const joined = new Promise<void>((resolve) => mesh.on('joined', () => resolve()));
  h.defer(() => [mesh.close(), signaling.close()]);
  return { mesh, refusals, joined };
}

describe('mesh ICE selection', () => {
  it('a relay-only run dials nobody through a signaling server that gives no TURN credential, and says so once', async () => {
    assertPrivateNetwork();
    const url = await h.signalingUrl(); // a bare `tessera signal`: no ICE in its welcome
    const run: IceSettings = { stun: [], turn: ['turn:10.77.0.2:3478'], relayOnly: true };
    const rec = recordingWrtc();
    const a = meshPeer(url, 'a', run, rec.wrtc);
    await a.joined;
    const b = meshPeer(url, 'b', run, rec.wrtc);
    await b.joined;
    const c = meshPeer(url, 'c', run, rec.wrtc); // finds two peers to dial: still one error
    await until(() => c.refusals.length > 0 && b.refusals.length > 0);
    // Every dial goes through the ICE choice, which refused (the reports above) or would have
    // built a peer connection (recorded here): b and c both tried, and none was built.
    expect(rec.configs).toEqual([]); // no peer connection at all, so no address was gathered or sent
    expect(c.refusals).toHaveLength(1);
    expect(c.refusals[0]).toMatch(/relayed \(TURN\) connections only.*no TURN credential/);
    expect([a, b, c].map((p) => p.mesh.neighbours().length)).toEqual([0, 0, 0]);
  });

  it("uses the run's STUN servers when the signaling server sends none, and still connects", async () => {
    assertPrivateNetwork();
    const url = await h.signalingUrl();
    const run: IceSettings = { stun: ['stun:10.77.0.2:3478'], turn: [], relayOnly: false };
    const rec = recordingWrtc();
    const a = meshPeer(url, 'a', run, rec.wrtc);
    const b = meshPeer(url, 'b', run, rec.wrtc);
    await until(() => a.mesh.neighbours().length === 1 && b.mesh.neighbours().length === 1);
    expect(rec.configs.length).toBeGreaterThanOrEqual(2);
    for (const config of rec.configs) {
      expect(config.iceServers).toEqual([{ urls: run.stun }]);
      expect(config.iceTransportPolicy).toBeUndefined();
    }
  });

  it("keeps the run's relayOnly when the signaling server's ICE does not ask for it", async () => {
    assertPrivateNetwork();
    const secret = 'a-shared-turn-secret-0123456789';
    const url = await h.signalingUrl({ ice: { settings: { stun: [], turn: ['turn:10.77.0.2:3478'], relayOnly: false }, turnSecret: secret } });
    const run: IceSettings = { stun: [], turn: ['turn:10.77.0.2:3478'], relayOnly: true };
    const rec = recordingWrtc();
    await meshPeer(url, 'a', run, rec.wrtc).joined;
    const b = meshPeer(url, 'b', undefined, rec.wrtc); // a's policy, not b's, is under test
    await until(() => rec.configs.length >= 2);
    const fromA = rec.configs.filter((c) => c.iceTransportPolicy === 'relay');
    expect(fromA).toHaveLength(1);
    expect(fromA[0].iceServers).toEqual([{ urls: ['turn:10.77.0.2:3478'], username: expect.stringMatching(/^\d+:a$/), credential: expect.any(String) }]);
    expect(b.refusals).toEqual([]);
  });
});
