// The page's standstill detector: a 1 s tick that comes seconds late is time away (a sleep, a
// frozen tab), said in whole seconds; a tick a little late (a busy thread) is not.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AwayWatch, describeAway } from '../../src/ui/awayWatch';

beforeEach(() => void vi.useFakeTimers({ now: 1_000_000 }));
afterEach(() => void vi.useRealTimers());

describe('AwayWatch', () => {
  it('reports a standstill for as long as it lasted, and only while it is recent', () => {
    const watch = new AwayWatch();
    vi.advanceTimersByTime(5000);
    expect(watch.awayWithin(60_000)).toBeUndefined();
    // The thread stands still: the clock moves 28 s, no timer runs meanwhile.
    vi.setSystemTime(Date.now() + 28_000);
    vi.advanceTimersByTime(1000);
    const away = watch.awayWithin(60_000);
    expect(away?.ms).toBe(29_000);
    expect(describeAway(away)).toBe('this tab stood still for 29 s (the device slept, or the browser froze the tab)');
    vi.advanceTimersByTime(20_000);
    expect(watch.awayWithin(10_000)).toBeUndefined(); // over 10 s ago
    expect(watch.awayWithin(30_000)?.ms).toBe(29_000);
    watch.stop();
  });

  it('a tick a few seconds late is a busy thread, not time away; a gap still open when asked counts', () => {
    const watch = new AwayWatch();
    vi.setSystemTime(Date.now() + 2500); // 2.5 s late
    vi.advanceTimersByTime(1000);
    expect(watch.awayWithin(60_000)).toBeUndefined();
    vi.setSystemTime(Date.now() + 10_000); // asked by the first code to run after waking
    expect(watch.awayWithin(60_000)?.ms).toBe(10_000);
    expect(describeAway(undefined)).toBeUndefined();
    watch.stop();
  });
});
