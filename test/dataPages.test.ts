// Data pages: a pure function of (run seed, peer, window) that differs across peers and
// windows, stays in range, and matches fixed vectors (the same vectors Chromium must give).
import { describe, expect, it } from 'vitest';
import { assignedPages, randomPages, unitPages } from '../src/train/dataPages';
import { PAGE_VECTORS } from './support/pageVectors';

describe('data pages', () => {
  const base = {
    runSeed: 'run-1',
    peerAddress: '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY',
    window: 7,
    count: 64,
    seqLen: 256,
    corpusLength: 1_003_854,
  };

  it('are a pure function of their inputs', async () => {
    expect(await assignedPages(base)).toEqual(await assignedPages({ ...base }));
  });

  it('differ across peers, windows and runs', async () => {
    const a = await assignedPages(base);
    for (const change of [{ peerAddress: `${base.peerAddress}x` }, { window: 8 }, { runSeed: 'run-2' }]) {
      const b = await assignedPages({ ...base, ...change });
      const same = a.filter((x, i) => x === b[i]).length;
      expect(same).toBeLessThan(3);
    }
    const v = await randomPages('run-1', base);
    expect(v.filter((x, i) => x === a[i]).length).toBeLessThan(3);
  });

  it('leave room for a whole sequence and its targets, and spread over the corpus', async () => {
    const pages = await assignedPages({ ...base, count: 4000, corpusLength: 1000, seqLen: 100 });
    expect(Math.max(...pages)).toBeLessThanOrEqual(1000 - 100 - 1);
    expect(Math.min(...pages)).toBeGreaterThanOrEqual(0);
    const low = pages.filter((p) => p < 450).length;
    expect(low / 4000).toBeGreaterThan(0.45);
    expect(low / 4000).toBeLessThan(0.55);
  });

  it('refuse impossible requests', async () => {
    await expect(assignedPages({ ...base, corpusLength: 256 })).rejects.toThrow(/no room for sequences of 256/);
    await expect(assignedPages({ ...base, window: -1 })).rejects.toThrow(/window must be a non-negative integer/);
  });

  it('match the fixed vectors', async () => {
    for (const v of PAGE_VECTORS) expect(Array.from(await assignedPages(v.request))).toEqual(v.offsets);
  });

  it('give each work unit its own pages, apart from the window pages, pinned by a fixed vector', async () => {
    const unit = { ...base, unit: 3 };
    const a = await unitPages(unit);
    expect(a).toEqual(await unitPages({ ...unit }));
    const window = await assignedPages(base);
    for (const other of [
      await unitPages({ ...unit, unit: 4 }),
      await unitPages({ ...unit, window: 8 }),
      await unitPages({ ...unit, peerAddress: 'x' }),
      window,
    ]) {
      expect(a.filter((x, i) => x === other[i]).length).toBeLessThan(3);
    }
    expect(Array.from(await unitPages({ ...unit, count: 6 }))).toEqual([338405, 646886, 908788, 313726, 443476, 830026]);
    await expect(unitPages({ ...unit, unit: -1 })).rejects.toThrow(/unit must be a non-negative integer/);
    await expect(unitPages({ ...unit, unit: 1.5 })).rejects.toThrow(/unit must be a non-negative integer/);
  });
});
