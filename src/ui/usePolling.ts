// Polls while a component is mounted: once at once, then every `everyMs`, never two at a time,
// and tells the poll (through `active`) whether its answer is still wanted after an await.
import { useEffect, useRef } from 'react';

export type Poll = (active: () => boolean) => Promise<void>;

/** Restarts when `key` changes (a different address, say); the latest `poll` is always the one run. */
export function usePolling(poll: Poll, everyMs: number, key: string = ''): void {
  const latest = useRef(poll);
  useEffect(() => {
    latest.current = poll;
  });
  useEffect(() => {
    let stop = false;
    let running = false;
    const tick = (): void => {
      if (running) return; // a slow answer is not overtaken by the next request
      running = true;
      latest
        .current(() => !stop)
        .catch(() => undefined)
        .finally(() => (running = false));
    };
    tick();
    const timer = setInterval(tick, everyMs);
    return () => {
      stop = true;
      clearInterval(timer);
    };
  }, [everyMs, key]);
}
