// Node peers form a mesh through the real signaling server and WebRTC (@roamhq/wrtc) inside
// the private namespace: introductions, the neighbour cap, broadcast, bans, and refills.
import { afterEach, describe, expect, it } from 'vitest';
import { assertPrivateNetwork } from '../support/privateNetwork';
import { Harness, sleep, until } from '../support/swarmHarness';

const h = new Harness();
afterEach(() => h.cleanup());

describe('mesh over WebRTC', () => {
  it('connects every peer to the others, broadcasts, and bans a peer the protocol rejects', async () => {
    assertPrivateNetwork();
    const url = await h.signalingUrl();
    const a = h.peer(url, 'a');
    await sleep(200);
    const b = h.peer(url, 'b');
    const c = h.peer(url, 'c');
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
    await sleep(1500);
    expect(a.neighbours()).toEqual(['b']);
    expect(a.isBanned('c')).toBe(true);
  });

  it('bans a neighbour that sends a message over the cap, before reassembling it', async () => {
    assertPrivateNetwork();
    const url = await h.signalingUrl();
    const a = h.peer(url, 'a', { maxMessageBytes: 1024 });
    const b = h.peer(url, 'b');
    await until(() => a.neighbours().length === 1 && b.neighbours().length === 1);
    const downs: string[] = [];
    a.on('down', (id, reason) => downs.push(`${id}: ${reason}`));
    void b.send('a', new Uint8Array(4096)).catch(() => undefined);
    await until(() => downs.length > 0, 10_000);
    expect(downs[0]).toMatch(/^b: banned: framing: message of 4096 bytes exceeds the 1024-byte cap/);
    await sleep(1500); // refills run meanwhile: a does not take b back
    expect(a.isBanned('b')).toBe(true);
    expect(a.neighbours()).toEqual([]);
  });

  it('dials K neighbours and accepts newcomers up to K + K/2', async () => {
    assertPrivateNetwork();
    const url = await h.signalingUrl();
    const first = h.peer(url, 'p0', { maxNeighbours: 2 });
    await sleep(200);
    const others = ['p1', 'p2', 'p3'].map((id) => h.peer(url, id, { maxNeighbours: 2 }));
    await until(() => first.neighbours().length >= 2 && others.every((m) => m.neighbours().length >= 1));
    for (const m of [first, ...others]) expect(m.neighbours().length).toBeLessThanOrEqual(3);
  });

  it('replaces a neighbour that leaves with another known peer', async () => {
    assertPrivateNetwork();
    const url = await h.signalingUrl();
    const p1 = h.peer(url, 'p1');
    const p2 = h.peer(url, 'p2');
    await until(() => p1.neighbours().length === 1 && p2.neighbours().length === 1);
    const p0 = h.peer(url, 'p0', { maxNeighbours: 1 }); // dials one of them
    await until(() => p0.neighbours().length === 1);
    const [gone] = p0.neighbours();
    (gone === 'p1' ? p1 : p2).close();
    const other = gone === 'p1' ? 'p2' : 'p1';
    await until(() => p0.neighbours().join() === other, 30_000);
  });
});
