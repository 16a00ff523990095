// The tab's join, leave and rejoin: a failed peer is released and a fresh one started after 2 s,
// 5 s and 15 s, saying why; then it stops with the error; Leave or a closed page cancels a rejoin;
// a peer that had run two windows was healthy, so its failure starts the count again.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RunConfig } from '../../src/protocol/runConfig';
import { SwarmJoiner, type StartPeer } from '../../src/ui/swarmJoiner';
import type { SwarmView } from '../../src/ui/swarmView';
import { tinyRun } from '../support/tinyRun';

const RUN: RunConfig = tinyRun({ runId: 'r', seed: 1, startTime: 0, windowMs: 8000, graceMs: 2000, uploadMarginMs: 1000, validatorKeys: [] });

/** Peers this test starts: each one's failure is in the test's hands. */
function scriptedPeers() {
  const peers: { fail(message: string): void; stopped: boolean; effort?: unknown }[] = [];
  let refuse: string | undefined;
  let gate: Promise<void> | undefined;
  const start: StartPeer = async (_run, _signal, update) => {
    await gate;
    if (refuse) throw new Error(refuse);
    let fail!: (err: Error) => void;
    const running = new Promise<void>((_, reject) => (fail = reject));
    const peer = { fail: (m: string) => fail(new Error(m)), stopped: false, effort: undefined as unknown };
    peers.push(peer);
    update((v) => ({ ...v, status: 'joined' }));
    return { running, stop: () => void (peer.stopped = true), setEffort: (e) => void (peer.effort = e) };
  };
  return { peers, start, refuseWith: (m: string | undefined) => (refuse = m), holdStarts: (g: Promise<void> | undefined) => (gate = g) };
}

function joiner() {
  let view: SwarmView = { status: 'available', neighbours: 0, history: [] };
  const scripted = scriptedPeers();
  const j = new SwarmJoiner((f) => (view = f(view)), scripted.start);
  return { j, ...scripted, view: () => view };
}

beforeEach(() => void vi.useFakeTimers());
afterEach(() => void vi.useRealTimers());

describe('SwarmJoiner', () => {
  it('rejoins after each failure, waiting 2 s, 5 s, then 15 s, saying why; the fourth failure in a row stops with the error', async () => {
    const { j, peers, view } = joiner();
    j.join(RUN, 'ws://x');
    await vi.advanceTimersByTimeAsync(0);
    expect(view().status).toBe('joined');
    for (const [i, delay] of [2000, 5000, 15000].entries()) {
      peers[i].fail(`the GPU device was lost (${i})`);
      await vi.advanceTimersByTimeAsync(0);
      expect(peers[i].stopped).toBe(true);
      expect(view()).toMatchObject({ status: 'joining', recovery: { what: `the GPU device was lost (${i})`, action: 'rejoining', attempt: i + 1, of: 3 } });
      await vi.advanceTimersByTimeAsync(delay - 1);
      expect(peers).toHaveLength(i + 1); // not before its time
      await vi.advanceTimersByTimeAsync(1);
      expect(peers).toHaveLength(i + 2);
      expect(view().status).toBe('joined');
    }
    peers[3].fail('the GPU device was lost (3)');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(peers).toHaveLength(4);
    expect(view()).toMatchObject({ status: 'error', error: 'the GPU device was lost (3)', phase: 'stopped' });
    expect(view().recovery).toBeUndefined();
  });

  it('a peer that ran for two windows was healthy: its failure is a first rejoin again', async () => {
    const { j, peers, view } = joiner();
    j.join(RUN, 'ws://x');
    await vi.advanceTimersByTimeAsync(0);
    peers[0].fail('one');
    await vi.advanceTimersByTimeAsync(2000);
    peers[1].fail('two');
    await vi.advanceTimersByTimeAsync(5000);
    await vi.advanceTimersByTimeAsync(2 * RUN.windowMs + 1);
    peers[2].fail('three, after a healthy run');
    await vi.advanceTimersByTimeAsync(0);
    expect(view().recovery).toMatchObject({ attempt: 1 });
  });

  it('a first Join that cannot start says so at once; a rejoin that cannot start tries again', async () => {
    const { j, peers, view, refuseWith } = joiner();
    refuseWith('WebGPU is not available');
    j.join(RUN, 'ws://x');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(view()).toMatchObject({ status: 'error', error: 'WebGPU is not available' });
    refuseWith(undefined);
    j.join(RUN, 'ws://x');
    await vi.advanceTimersByTimeAsync(0);
    refuseWith('the GPU process is restarting');
    peers[0].fail('the GPU device was lost');
    await vi.advanceTimersByTimeAsync(2000);
    expect(view()).toMatchObject({ status: 'joining', recovery: { what: 'the GPU process is restarting', attempt: 2 } });
    refuseWith(undefined);
    await vi.advanceTimersByTimeAsync(5000);
    expect(view().status).toBe('joined');
    expect(peers).toHaveLength(2);
  });

  it('Leave cancels a pending rejoin; a closed page starts nothing more; the power setting reaches every peer', async () => {
    const { j, peers, view } = joiner();
    j.setEffort({ share: 0.25, paused: false });
    j.join(RUN, 'ws://x');
    await vi.advanceTimersByTimeAsync(0);
    expect(peers[0].effort).toEqual({ share: 0.25, paused: false });
    peers[0].fail('lost');
    await vi.advanceTimersByTimeAsync(0);
    j.leave();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(peers).toHaveLength(1);
    expect(view().status).toBe('available');
    j.join(RUN, 'ws://x');
    await vi.advanceTimersByTimeAsync(0);
    expect(peers[1].effort).toEqual({ share: 0.25, paused: false });
    j.close();
    expect(peers[1].stopped).toBe(true);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(peers).toHaveLength(2);
  });

  it('Leave then Join while a start is still pending: the older start is stopped when it resolves, only the newer peer runs', async () => {
    const { j, peers, view, holdStarts } = joiner();
    let open!: () => void;
    holdStarts(new Promise<void>((resolve) => (open = resolve)));
    j.join(RUN, 'ws://x');
    j.leave();
    expect(view().status).toBe('available');
    j.join(RUN, 'ws://x');
    open();
    await vi.advanceTimersByTimeAsync(0);
    expect(peers).toHaveLength(2);
    expect(peers.map((p) => p.stopped)).toEqual([true, false]);
    expect(view().status).toBe('joined');
    // The stopped one failing later changes nothing; the running one's failure rejoins.
    peers[0].fail('old');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(peers).toHaveLength(2);
    expect(view().recovery).toBeUndefined();
  });
});
