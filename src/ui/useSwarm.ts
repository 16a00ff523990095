// React hook for joining the swarm this server hosts: reads /api/run, and on join loads and
// runs a SwarmPeer on this page (joinSwarm.ts), so the page opens without the swarm's code.
import { useCallback, useEffect, useRef, useState } from 'react';
import { parseRunConfig } from '../protocol/parseRunConfig';
import type { RunConfig } from '../protocol/runConfig';
import type { Effort } from '../swarm/windowTrainer';
import { loadTotals } from './browserTotals';
import type { Joined, SwarmView } from './swarmView';

export type { SwarmView } from './swarmView';

/** What /api/run answers: the run, and the signaling URL when it is not this host's /signal. */
export interface PublishedRun {
  run: RunConfig;
  signal?: string;
}

/** The run this server hosts, or undefined when it hosts none. */
export async function fetchPublishedRun(): Promise<PublishedRun | undefined> {
  const r = await fetch('/api/run');
  if (!r.ok) return undefined;
  const body = (await r.json()) as { run?: unknown; signal?: unknown };
  // The run decides what this tab trains and which servers it contacts: checked like a run file.
  const signal = typeof body.signal === 'string' && /^wss?:\/\//.test(body.signal) ? body.signal : undefined;
  return { run: parseRunConfig(body.run), signal };
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** `effort`: the power setting, applied to the tab's trainer on join and whenever it changes. */
export function useSwarm(effort: Effort): SwarmView & { join(): void; leave(): void } {
  const [view, setView] = useState<SwarmView>({ status: 'checking', neighbours: 0, history: [] });
  const joined = useRef<Joined | null>(null);
  // False once the page is gone: a peer that finishes starting after that is stopped at once,
  // never left running (worker, mesh, signaling) behind a page that can no longer stop it.
  const mounted = useRef(false);
  const effortNow = useRef(effort);
  useEffect(() => {
    effortNow.current = effort;
    joined.current?.setEffort(effort);
  }, [effort]);

  useEffect(() => {
    mounted.current = true;
    let cancelled = false;
    fetchPublishedRun()
      .then(
        (p) =>
          !cancelled &&
          setView((v) => ({
            ...v,
            status: p?.run ? 'available' : 'none',
            run: p?.run,
            signal: p?.signal,
            totals: p?.run ? loadTotals(p.run.runId) : undefined,
          })),
      )
      .catch((err: unknown) => !cancelled && setView((v) => ({ ...v, status: 'error', error: `this server's run cannot be joined: ${message(err)}` })));
    return () => {
      cancelled = true;
      mounted.current = false;
      joined.current?.stop();
      joined.current = null;
    };
  }, []);

  const join = useCallback(() => {
    const run = view.run;
    if (!run || joined.current) return;
    setView((v) => ({ ...v, status: 'joining', error: undefined }));
    const signal = view.signal ?? `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/signal`;
    const update = (f: (v: SwarmView) => SwarmView): void => {
      if (mounted.current) setView(f);
    };
    import('./joinSwarm')
      .then((m) => m.startPeer(run, signal, update))
      .then(
        (j) => {
          if (!mounted.current) return j.stop();
          joined.current = j;
          j.setEffort(effortNow.current);
          // The peer stopped on an error: release it, so Join starts a fresh one.
          j.running.catch((err: unknown) => {
            j.stop();
            if (joined.current === j) joined.current = null;
            update((v) => ({ ...v, status: 'error', phase: 'stopped', phaseSpan: undefined, error: message(err) }));
          });
        },
        (err: unknown) => update((v) => ({ ...v, status: 'error', error: message(err) })),
      );
  }, [view.run, view.signal]);

  const leave = useCallback(() => {
    joined.current?.stop();
    joined.current = null;
    setView((v) => ({ ...v, status: 'available', phase: 'stopped', phaseSpan: undefined }));
  }, []);

  return { ...view, join, leave };
}
