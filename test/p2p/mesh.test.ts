// Node peers form a mesh through the real signaling server and WebRTC (@roamhq/wrtc) inside
// the private namespace: introductions, the neighbour cap, broadcast, bans, and refills.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { attachSignaling } from '../../server/signaling';
import { Mesh } from '../../src/p2p/mesh';
import type { WrtcImplementation } from '../../src/p2p/peerLink';
import { SignalingClient, type SocketLike } from '../../src/p2p/signalingClient';
import { assertPrivateNetwork } from '../support/privateNetwork';

const wrtc = createRequire(import.meta.url)('@roamhq/wrtc') as WrtcImplementation;
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function signalingUrl(): Promise<string> {
  const server = createServer();
  const signaling = attachSignaling(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    await signaling.close();
    server.closeAllConnections();
    server.close();
  });
  return `ws://127.0.0.1:${(server.address() as AddressInfo).port}/signal`;
}

function peer(url: string, id: string, maxNeighbours = 8, banMs = 60_000): Mesh {
  const signaling = new SignalingClient({ url, room: 'mesh-test', peerId: id, socket: (u) => new WebSocket(u) as unknown as SocketLike });
  const mesh = new Mesh({ signaling, selfId: id, wrtc, maxNeighbours, banMs, connectTimeoutMs: 10_000 });
  cleanups.push(() => {
    mesh.close();
    signaling.close();
  });
  return mesh;
}

const until = async (check: () => boolean, ms = 20_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe('mesh over WebRTC', () => {
  it('connects every peer to the others, broadcasts, and bans a peer the protocol rejects', async () => {
    assertPrivateNetwork();
    const url = await signalingUrl();
    const a = peer(url, 'a');
    await new Promise((r) => setTimeout(r, 200));
    const b = peer(url, 'b');
    const c = peer(url, 'c');
    await until(() => [a, b, c].every((m) => m.neighbours().length === 2));
    expect(a.neighbours().sort()).toEqual(['b', 'c']);

    const heard: string[] = [];
    b.on('message', (from, m) => heard.push(`b<-${from}:${new TextDecoder().decode(m)}`));
    c.on('message', (from, m) => heard.push(`c<-${from}:${new TextDecoder().decode(m)}`));
    await a.broadcast(new TextEncoder().encode('hello'));
    await until(() => heard.length === 2);
    expect(heard.sort()).toEqual(['b<-a:hello', 'c<-a:hello']);

    // The protocol layer finds c's data invalid: c is dropped and not re-dialled while banned.
    const down = new Promise<string>((resolve) => a.on('down', (id, reason) => resolve(`${id}: ${reason}`)));
    a.punish('c', 'bad payload hash');
    expect(await down).toBe('c: banned: bad payload hash');
    await new Promise((r) => setTimeout(r, 1500));
    expect(a.neighbours()).toEqual(['b']);
    expect(a.isBanned('c')).toBe(true);
  });

  it('dials K neighbours and accepts newcomers up to K + K/2', async () => {
    assertPrivateNetwork();
    const url = await signalingUrl();
    const first = peer(url, 'p0', 2);
    await new Promise((r) => setTimeout(r, 200));
    const others = ['p1', 'p2', 'p3'].map((id) => peer(url, id, 2));
    await until(() => first.neighbours().length >= 2 && others.every((m) => m.neighbours().length >= 1));
    for (const m of [first, ...others]) expect(m.neighbours().length).toBeLessThanOrEqual(3);
  });

  it('replaces a neighbour that leaves with another known peer', async () => {
    assertPrivateNetwork();
    const url = await signalingUrl();
    const p1 = peer(url, 'p1');
    const p2 = peer(url, 'p2');
    await until(() => p1.neighbours().length === 1 && p2.neighbours().length === 1);
    const p0 = peer(url, 'p0', 1); // dials one of them
    await until(() => p0.neighbours().length === 1);
    const [gone] = p0.neighbours();
    (gone === 'p1' ? p1 : p2).close();
    const other = gone === 'p1' ? 'p2' : 'p1';
    await until(() => p0.neighbours().join() === other, 30_000);
  });
});
