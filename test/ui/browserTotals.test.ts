// This browser's totals: each window counted once however often reported, accepted and refused
// apart, runs apart, and a hand-edited store read field by field (bad values count as 0).
import { describe, expect, it } from 'vitest';
import { addWindow, loadTotals, NO_TOTALS } from '../../src/ui/browserTotals';

function memoryStorage(): Pick<Storage, 'getItem' | 'setItem'> & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return { data, getItem: (k) => data.get(k) ?? null, setItem: (k, v) => void data.set(k, v) };
}

describe('browser totals', () => {
  it('counts each window once, accepted and refused apart, per run', () => {
    const s = memoryStorage();
    addWindow('r', { window: 0, tokens: 100, contributed: true, included: true }, s);
    addWindow('r', { window: 0, tokens: 100, contributed: true, included: true }, s); // reported again
    addWindow('r', { window: 1, tokens: 50, contributed: true, included: false }, s);
    addWindow('r', { window: 2, tokens: 0, contributed: false, included: false }, s); // paused: no contribution
    addWindow('other', { window: 5, tokens: 7, contributed: true, included: true }, s);
    expect(loadTotals('r', s)).toEqual({ tokens: 150, windows: 2, accepted: 1, refused: 1, lastWindow: 2 });
    expect(loadTotals('other', s)).toMatchObject({ tokens: 7, windows: 1 });
    expect(loadTotals('none', s)).toEqual(NO_TOTALS);
  });

  it('reads a damaged store as zeros rather than failing', () => {
    const s = memoryStorage();
    s.setItem('tessera.totals.v1', '{"r":{"tokens":-5,"windows":"many","accepted":2.5,"refused":1,"lastWindow":3}}');
    expect(loadTotals('r', s)).toEqual({ tokens: 0, windows: 0, accepted: 0, refused: 1, lastWindow: 3 });
    s.setItem('tessera.totals.v1', 'not json');
    expect(loadTotals('r', s)).toEqual(NO_TOTALS);
    expect(addWindow('r', { window: 0, tokens: 3, contributed: true, included: true }, s).tokens).toBe(3);
  });
});
