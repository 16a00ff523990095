// The dashboard's data path without a browser: history answers are checked field by field,
// appended incrementally without duplicates, and long series are bucketed for drawing.
import { describe, expect, it } from 'vitest';
import { alignSeries, downsample, type Aligned } from '../../src/ui/charts/downsample';
import { appendHistory, HistoryFormatError, KEPT_PEER_SERIES, parseAddressHistory, parseHistory } from '../../src/ui/useRunHistory';
import type { WindowPoint } from '../../src/validator/status';

const point = (window: number, valLoss: number | null = 3): WindowPoint => ({
  window,
  closedAt: window,
  accepted: 2,
  rejected: 0,
  valLoss,
  trainLoss: 3.1,
  tokens: 1280,
  bytes: 2000,
  denseBytes: 300_000,
  peers: 2,
  durationMs: 8000,
  online: 3,
});

describe('history answers', () => {
  it('accept a well-formed page and refuse each malformed field by name', () => {
    const good = { windows: [point(0), point(1, null)], losses: [{ window: 1, address: 'A', trainLoss: 3 }], more: false };
    expect(parseHistory(JSON.parse(JSON.stringify(good)))).toEqual(good);
    const bad: [unknown, RegExp][] = [
      [null, /arrays/],
      [{ windows: [] }, /arrays/],
      [{ windows: [], losses: [] }, /boolean "more"/],
      [{ windows: [{ ...point(0), valLoss: 'x' }], losses: [], more: false }, /windows\[0\]\.valLoss/],
      [{ windows: [{ ...point(0), tokens: null }], losses: [], more: false }, /windows\[0\]\.tokens/],
      [{ windows: [point(0)], losses: [{ window: 0, address: 7, trainLoss: 1 }], more: false }, /losses\[0\]\.address/],
      [{ windows: [], losses: [{ window: 0, address: 'A', trainLoss: 'NaN' }], more: false }, /losses\[0\]\.trainLoss/],
      [{ windows: Array.from({ length: 2001 }, (_, i) => point(i)), losses: [], more: false }, /over 2000/],
    ];
    for (const [value, why] of bad) expect(() => parseHistory(value), JSON.stringify(value)?.slice(0, 60)).toThrow(why);
    expect(() => parseHistory(null)).toThrow(HistoryFormatError);
  });

  it('accept an address record and refuse a malformed one', () => {
    const good = { address: 'A', windows: [{ window: 3, accepted: 1, rejected: 0, score: 0.02, powT: 4.1, codes: ['accepted'] }] };
    expect(parseAddressHistory(good)).toEqual(good);
    expect(() => parseAddressHistory({ address: 'A', windows: [{ ...good.windows[0], codes: 'accepted' }] })).toThrow(/windows\[0\]\.codes/);
    expect(() => parseAddressHistory({ address: 'A', windows: [{ ...good.windows[0], score: 'high' }] })).toThrow(/windows\[0\]\.score/);
    expect(() => parseAddressHistory({ windows: [] })).toThrow(/address/);
  });

  it('append only windows after the last one held', () => {
    const held = { windows: [] as WindowPoint[], losses: new Map<string, Map<number, number>>() };
    expect(appendHistory(held, { windows: [point(0), point(1)], losses: [{ window: 1, address: 'A', trainLoss: 3 }], more: false })).toBe(2);
    // A repeated answer (a poll racing the previous one) adds nothing.
    expect(appendHistory(held, { windows: [point(1)], losses: [{ window: 1, address: 'A', trainLoss: 9 }], more: false })).toBe(0);
    expect(appendHistory(held, { windows: [point(2)], losses: [{ window: 2, address: 'B', trainLoss: 2.5 }], more: false })).toBe(1);
    expect(held.windows.map((w) => w.window)).toEqual([0, 1, 2]);
    expect([...held.losses.entries()].map(([a, m]) => [a, [...m.entries()]])).toEqual([
      ['A', [[1, 3]]],
      ['B', [[2, 2.5]]],
    ]);
    // 120 peers: only the busiest KEPT_PEER_SERIES keep their series (memory stays bounded).
    const many = Array.from({ length: 120 }, (_, p) =>
      Array.from({ length: 1 + (p % 7) }, (_, k) => ({ window: 3 + k, address: `P${String(p).padStart(3, '0')}`, trainLoss: 3 })),
    );
    appendHistory(held, { windows: Array.from({ length: 7 }, (_, k) => point(3 + k)), losses: many.flat(), more: false });
    expect(held.losses.size).toBe(KEPT_PEER_SERIES);
    // Kept: the 17 peers with 7 windows, then 15 of the 17 with 6; everyone with fewer is dropped.
    const sizes = [...held.losses.values()].map((m) => m.size);
    expect(sizes.filter((n) => n === 7)).toHaveLength(17);
    expect(Math.min(...sizes)).toBe(6);
  });
});

describe('downsampling for charts', () => {
  it('passes short series through and buckets long ones by mean, keeping gaps', () => {
    const short: Aligned = [
      [0, 1],
      [1, 2],
    ];
    expect(downsample(short, 10)).toBe(short);
    const n = 50_000;
    const xs = Array.from({ length: n }, (_, i) => i);
    const ys = xs.map((i) => (i % 2 ? null : i));
    const [dx, dy] = downsample([xs, ys, xs.map(() => null)], 1000);
    expect(dx).toHaveLength(1000);
    expect(dx[1]).toBe(50);
    expect(dy[0]).toBe(24); // mean of 0, 2, …, 48 (odd windows had no point)
    expect(downsample([xs, ys, xs.map(() => null)], 1000)[2].every((v) => v === null)).toBe(true);
  });

  it('aligns point sets on one x axis with nulls where a series has no point', () => {
    expect(
      alignSeries([
        new Map([
          [1, 10],
          [3, 30],
        ]),
        new Map([[2, 20]]),
      ]),
    ).toEqual([
      [1, 2, 3],
      [10, null, 30],
      [null, 20, null],
    ]);
  });
});
