// Node peers form a mesh through the real signaling server and WebRTC (@roamhq/wrtc) inside
// the private namespace: introductions, the neighbour cap, broadcast, bans, and refills.
// No fixed waits: each absence is proven by the mesh's own event (a refused offer, a refill
// that passed a banned peer over, a welcome after which the dials are known).
import { afterEach, describe, expect, it } from 'vitest';
import type { Mesh, MeshEvents } from '../../src/p2p/mesh';
import { assertPrivateNetwork } from '../support/privateNetwork';
import { Harness, until } from '../support/swarmHarness';

const h = new Harness();
afterEach(() => h.cleanup());

/**
 * The first `event` from `mesh` whose arguments pass `match`; rejects after `ms`. Call it
 * before whatever causes the event. A rejection nobody awaited is not reported twice.
 */
function next<K extends keyof MeshEvents>(
  mesh: Mesh,
  event: K,
  match: (...args: Parameters<MeshEvents[K]>) => boolean = () => true,
  ms = 20_000,
): Promise<Parameters<MeshEvents[K]>> {
  let off = (): void => undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const seen = new Promise<Parameters<MeshEvents[K]>>((resolve, reject) => {
    timer = setTimeout(() => {
      off();
      reject(new Error(`no matching '${event}' event within ${ms} ms`));
    }, ms);
    const listener = (...args: Parameters<MeshEvents[K]>): void => {
      if (!match(...args)) return;
      clearTimeout(timer);
      off();
      resolve(args);
    };
    const unsubscribe = mesh.on(event, listener as unknown as MeshEvents[K]);
    off = () => void unsubscribe();
  });
  seen.catch(() => undefined);
  h.defer(() => {
    clearTimeout(timer);
    off();
  });
  return seen;
}

/** Proof that `mesh` kept `banned` out: it refused the banned peer's offer, and a refill passed it over. */
function keptOut(mesh: Mesh, banned: string): Promise<unknown> {
  return Promise.all([
    next(mesh, 'refused', (id, reason, direction) => id === banned && reason === 'banned' && direction === 'inbound'),
    next(mesh, 'refused', (id, reason, direction) => id === banned && reason === 'banned' && direction === 'outbound'),
  ]);
}

describe('mesh over WebRTC', () => {
  it('connects every peer to the others, broadcasts, and bans a peer the protocol rejects', async () => {
    assertPrivateNetwork();
    const url = await h.signalingUrl();
    const a = h.peer(url, 'a');
    expect(await next(a, 'joined')).toEqual([[]]); // the first in the room: the others dial it
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
    // c, which still knows a, dials it again when its link closes: a refuses that offer, and
    // a's own refill passes c over.
    const down = new Promise<string>((resolve) => a.on('down', (id, reason) => resolve(`${id}: ${reason}`)));
    const kept = keptOut(a, 'c');
    a.punish('c', 'bad payload hash');
    expect(await down).toBe('c: banned: bad payload hash');
    await kept;
    expect(a.neighbours()).toEqual(['b']);
    expect(a.connecting()).toEqual([]);
    expect(a.isBanned('c')).toBe(true);
    expect(c.neighbours()).toEqual(['b']);
  });

  it('bans a neighbour that sends a message over the cap, before reassembling it', async () => {
    assertPrivateNetwork();
    const url = await h.signalingUrl();
    const a = h.peer(url, 'a', { maxMessageBytes: 1024 });
    const b = h.peer(url, 'b');
    await until(() => a.neighbours().length === 1 && b.neighbours().length === 1);
    const downs: string[] = [];
    a.on('down', (id, reason) => downs.push(`${id}: ${reason}`));
    const kept = keptOut(a, 'b');
    void b.send('a', new Uint8Array(4096)).catch(() => undefined);
    await until(() => downs.length > 0, 10_000);
    expect(downs[0]).toMatch(/^b: banned: framing: message of 4096 bytes exceeds the 1024-byte cap/);
    await kept; // refills ran and b dialled again: a did not take b back
    expect(a.isBanned('b')).toBe(true);
    expect(a.neighbours()).toEqual([]);
    expect(a.connecting()).toEqual([]);
    expect(downs).toHaveLength(1);
  });

  it('accepts newcomers beyond K up to K + ⌈K/2⌉, and refuses the next one', async () => {
    assertPrivateNetwork();
    const url = await h.signalingUrl();
    const hub = h.peer(url, 'hub', { maxNeighbours: 2 });
    expect(hub.hardCap).toBe(3);
    expect(await next(hub, 'joined')).toEqual([[]]); // it dials nobody; the newcomers dial it
    const first = ['n1', 'n2', 'n3'].map((id) => h.peer(url, id)); // K = 8: each dials everyone present
    await until(() => hub.neighbours().length === 3 && first.every((m) => m.neighbours().includes('hub')));
    expect(hub.neighbours().sort()).toEqual(['n1', 'n2', 'n3']); // one more than K

    const refusedFull = next(hub, 'refused', (id, reason, direction) => id === 'n4' && reason === 'full' && direction === 'inbound');
    const n4 = h.peer(url, 'n4');
    await refusedFull;
    await until(() => n4.neighbours().length === 3);
    expect(n4.neighbours().sort()).toEqual(['n1', 'n2', 'n3']);
    expect(hub.neighbours().sort()).toEqual(['n1', 'n2', 'n3']);
    expect(hub.connecting()).toEqual([]);
  });

  it('dials exactly K of the peers present when it joins', async () => {
    assertPrivateNetwork();
    const url = await h.signalingUrl();
    const names = ['q1', 'q2', 'q3'];
    const old = names.map((id) => h.peer(url, id));
    await until(() => old.every((m) => m.neighbours().length === 2));
    const d = h.peer(url, 'd', { maxNeighbours: 2 });
    const downs: string[] = [];
    d.on('down', (id) => downs.push(id));
    // 'joined' comes after the welcome's refill: the links it holds then are every dial it made.
    let dialled: string[] = [];
    const [present] = await next(d, 'joined', () => {
      dialled = [...d.neighbours(), ...d.connecting()];
      return true;
    });
    expect(present.sort()).toEqual(names);
    expect(dialled).toHaveLength(2);
    await until(() => d.neighbours().length === 2 && old.filter((m) => m.neighbours().includes('d')).length === 2);
    expect(d.neighbours().sort()).toEqual([...dialled].sort());
    // No link dropped, so no refill dialled a third; the one left out never heard from d.
    expect(downs).toEqual([]);
    expect(d.connecting()).toEqual([]);
    const left = old[names.findIndex((n) => !dialled.includes(n))];
    expect(left.neighbours()).not.toContain('d');
    expect(left.connecting()).not.toContain('d');
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
