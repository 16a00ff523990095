// React hook for joining the swarm this server hosts: reads /api/run, and on join loads and
// runs a SwarmPeer on this page (joinSwarm.ts), so the page opens without the swarm's code.
import { useCallback, useEffect, useState } from 'react';
import { parseRunConfig } from '../protocol/parseRunConfig';
import type { RunConfig } from '../protocol/runConfig';
import type { Effort } from '../swarm/windowTrainer';
import { loadTotals } from './browserTotals';
import { SwarmJoiner } from './swarmJoiner';
import type { SwarmView } from './swarmView';

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
  // The swarm's code loads only when the visitor presses Join.
  const [joiner] = useState(() => new SwarmJoiner(setView, (run, signal, update) => import('./joinSwarm').then((m) => m.startPeer(run, signal, update))));
  useEffect(() => joiner.setEffort(effort), [joiner, effort]);

  useEffect(() => {
    joiner.reopen();
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
      // Never a peer (worker, mesh, signaling) left running behind a page that can no longer stop it.
      joiner.close();
    };
  }, [joiner]);

  const join = useCallback(() => {
    if (view.run) joiner.join(view.run, view.signal ?? `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/signal`);
  }, [joiner, view.run, view.signal]);
  const leave = useCallback(() => joiner.leave(), [joiner]);

  return { ...view, join, leave };
}
