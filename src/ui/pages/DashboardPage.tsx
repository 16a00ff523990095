// Viewers' page: the run as the validator's ledger sees it (relayed at /api/status), refreshed
// every few seconds: windows and their model hashes, standings and weights, refusals and why.
import { useState, type ReactNode } from 'react';
import type { StatusSnapshot } from '../../validator/status';
import { ErrorBoundary } from '../ErrorBoundary';
import { fetchJson } from '../fetchJson';
import { RunCharts } from '../RunCharts';
import { HeadRow, TableScroll } from '../TableScroll';
import { TryModel } from '../TryModel';
import { usePolling } from '../usePolling';
import { useRunHistory } from '../useRunHistory';
import { verifiedWorkWords } from '../verifiedWork';

/**
 * 'none' only until a first snapshot arrives: after that a failed poll keeps the last good
 * snapshot (and the charts' history) on screen, marked stale with the error.
 */
type Load =
  { state: 'loading' } | { state: 'none'; why: string } | { state: 'ok'; status: StatusSnapshot; fetchedAt: number; stale?: { why: string; at: number } };

const REFRESH_MS = 5000;

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

function useStatus(): Load {
  const [load, setLoad] = useState<Load>({ state: 'loading' });
  usePolling(async (active) => {
    try {
      const status = (await fetchJson('/api/status')) as StatusSnapshot;
      if (active()) setLoad({ state: 'ok', status, fetchedAt: Date.now() });
    } catch (err) {
      const why = message(err);
      const at = Date.now();
      if (active()) setLoad((l) => (l.state === 'ok' ? { ...l, stale: { why, at } } : { state: 'none', why }));
    }
  }, REFRESH_MS);
  return load;
}

const short = (s: string): string => `${s.slice(0, 8)}…${s.slice(-4)}`;
const percent = (v: number, digits: number): string => `${(100 * v).toFixed(digits)}%`;
/** Accepted contributions listed at most (the newest). */
const ACCEPTED_SHOWN = 12;

export function DashboardPage(): ReactNode {
  const load = useStatus();
  return (
    <section data-testid="dashboard" data-state={load.state} data-stale={load.state === 'ok' && load.stale ? 'true' : 'false'}>
      <h1>Dashboard</h1>
      <p>
        The training run as its validator records it: every window's outcome and model hash, each address's standing and share of the weights, and every refused
        contribution with the reason.
      </p>
      {load.state === 'loading' && <p className="note">Loading the validator’s status…</p>}
      {load.state === 'none' && (
        <p className="note" role="status" data-testid="dashboard-none">
          No validator status here ({load.why}). `npm start` runs a local swarm whose validator this page reads.
        </p>
      )}
      {load.state === 'ok' && load.stale && (
        <p className="note bad" role="status" data-testid="dashboard-stale">
          Stale: last update {Math.max(0, Math.round((load.stale.at - load.fetchedAt) / 1000))} s ago ({load.stale.why}). Retrying every {REFRESH_MS / 1000} s.
        </p>
      )}
      {load.state === 'ok' && <StatusView status={load.status} />}
    </section>
  );
}

function StatusView({ status }: { status: StatusSnapshot }): ReactNode {
  const totalWeight = status.addresses.reduce((s, a) => s + a.weight, 0);
  const { history, error } = useRunHistory();
  // Contributions for the open window arrive before it closes: the first sign of life.
  const arrived = status.contributions.filter((c) => c.window === status.window).length;
  const accepted = status.contributions.filter((c) => c.status === 'accepted').slice(0, ACCEPTED_SHOWN);
  return (
    <>
      <p role="status">
        Run <code>{status.runId}</code> · validating window {status.window} ({arrived} contribution{arrived === 1 ? '' : 's'} received so far) ·{' '}
        {status.addresses.length} address{status.addresses.length === 1 ? '' : 'es'} seen
      </p>
      {error && (
        <p className="note bad" role="alert" data-testid="dashboard-history-error">
          Chart data unavailable: {error}
        </p>
      )}
      <ErrorBoundary
        what="charts"
        fallback={(message) => (
          <p className="note bad" role="alert">
            The charts could not be drawn: {message}
          </p>
        )}
      >
        <RunCharts history={history} />
      </ErrorBoundary>
      <TryModel window={status.window} />
      <section className="card" aria-labelledby="windows-title">
        <h2 id="windows-title">Windows</h2>
        <TableScroll label="Windows table">
          <table data-testid="dashboard-windows">
            <HeadRow columns={['Window', 'Accepted', 'Refused', 'Validation loss', 'Model hash after']} />
            <tbody>
              {status.windows.map((w) => (
                <tr key={w.window} data-window={w.window}>
                  <td>{w.window}</td>
                  <td>{w.accepted}</td>
                  <td>{w.rejected}</td>
                  <td>{w.valLoss?.toFixed(3) ?? '–'}</td>
                  <td>
                    <code title={w.nextHash} data-testid="dashboard-window-hash">
                      {w.nextHash.slice(0, 16)}…
                    </code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      </section>
      <section className="card" aria-labelledby="accepted-title">
        <h2 id="accepted-title">Accepted contributions</h2>
        {accepted.length === 0 ? (
          <p className="note" data-testid="dashboard-accepted-none">
            None yet: a contribution is listed once the validator closes its window and accepts it.
          </p>
        ) : (
          <TableScroll label="Accepted contributions table">
            <table data-testid="dashboard-accepted">
              <caption className="note">The newest {accepted.length}; the score is the share of the held-out loss the update removed.</caption>
              <HeadRow columns={['Window', 'Address', 'Score', 'Tokens', 'Proof of work (t)', 'Update size']} />
              <tbody>
                {accepted.map((c) => (
                  <tr key={c.id} data-window={c.window} data-address={c.address}>
                    <td>{c.window}</td>
                    <td>
                      <code title={c.address}>{short(c.address)}</code>
                    </td>
                    <td data-testid="dashboard-accepted-score">{c.scoreRandom === null ? 'not scored' : percent(c.scoreRandom, 2)}</td>
                    <td data-testid="dashboard-accepted-tokens">{c.tokens === null ? '–' : c.tokens.toLocaleString('en-US')}</td>
                    <td>{c.powT === null ? '–' : c.powT.toFixed(1)}</td>
                    <td>{(c.bytes / 1024).toFixed(1)} KiB</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableScroll>
        )}
      </section>
      <section className="card" aria-labelledby="peers-title">
        <h2 id="peers-title">Peers</h2>
        <TableScroll label="Peers table">
          <table data-testid="dashboard-peers">
            <HeadRow
              columns={[
                'Address',
                'Accepted',
                'Refused',
                'Score (moving avg.)',
                'Rating (μ − 3σ)',
                'Proof of work',
                'Verified work',
                'Reward score',
                'Share of weights',
              ]}
            />
            <tbody>
              {status.addresses.map((a) => (
                <tr key={a.address} data-address={a.address}>
                  <td>
                    <code title={a.address}>{short(a.address)}</code>
                  </td>
                  <td>{a.accepted}</td>
                  <td>{a.rejected}</td>
                  <td data-testid="dashboard-peer-score">{percent(a.scoreEma, 2)}</td>
                  <td>{a.ordinal.toFixed(2)}</td>
                  <td>{percent(a.powEma, 0)}</td>
                  <td data-testid="dashboard-peer-work">{verifiedWorkWords(a)}</td>
                  <td data-testid="dashboard-peer-reward">{a.reward === 0 ? '0' : a.reward.toExponential(2)}</td>
                  <td data-testid="dashboard-peer-weight">{totalWeight > 0 ? percent(a.weight / totalWeight, 1) : '–'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      </section>
      <section className="card" aria-labelledby="refused-title">
        <h2 id="refused-title">Refused contributions</h2>
        {status.rejections.length === 0 ? (
          <p className="note">None so far.</p>
        ) : (
          <ul data-testid="dashboard-rejections">
            {status.rejections.map((r) => (
              <li key={r.id} data-code={r.code}>
                Window {r.window}, <code title={r.address}>{short(r.address)}</code>: <strong>{r.code}</strong> — {r.reason}
              </li>
            ))}
          </ul>
        )}
      </section>
    </>
  );
}
