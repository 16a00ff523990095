// Viewers' page: the run as the validator's ledger sees it (relayed at /api/status), refreshed
// every few seconds: windows and their model hashes, standings and weights, refusals and why.
import { useState, type ReactNode } from 'react';
import type { StatusSnapshot } from '../../validator/status';
import { ChartBoundary } from '../charts/ChartBoundary';
import { fetchJson } from '../fetchJson';
import { RunCharts } from '../RunCharts';
import { usePolling } from '../usePolling';
import { useRunHistory } from '../useRunHistory';

type Load = { state: 'loading' } | { state: 'none'; why: string } | { state: 'ok'; status: StatusSnapshot };

const REFRESH_MS = 5000;

function useStatus(): Load {
  const [load, setLoad] = useState<Load>({ state: 'loading' });
  usePolling(async (active) => {
    try {
      const status = (await fetchJson('/api/status')) as StatusSnapshot;
      if (active()) setLoad({ state: 'ok', status });
    } catch (err) {
      if (active()) setLoad({ state: 'none', why: err instanceof Error ? err.message : String(err) });
    }
  }, REFRESH_MS);
  return load;
}

const short = (s: string): string => `${s.slice(0, 8)}…${s.slice(-4)}`;

export function DashboardPage(): ReactNode {
  const load = useStatus();
  return (
    <section data-testid="dashboard" data-state={load.state}>
      <h1>Dashboard</h1>
      <p>The training run as its validator records it: every window's outcome and model hash, each address's standing and share of the weights, and every refused contribution with the reason.</p>
      {load.state === 'loading' && <p className="note">Loading the validator’s status…</p>}
      {load.state === 'none' && (
        <p className="note" role="status" data-testid="dashboard-none">
          No validator status here ({load.why}). `npm start` runs a local swarm whose validator this page reads.
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
  return (
    <>
      <p role="status">
        Run <code>{status.runId}</code> · validating window {status.window} ({arrived} contribution{arrived === 1 ? '' : 's'} received so far) · {status.addresses.length} address{status.addresses.length === 1 ? '' : 'es'} seen
      </p>
      {error && (
        <p className="note bad" role="alert" data-testid="dashboard-history-error">
          Chart data unavailable: {error}
        </p>
      )}
      <ChartBoundary>
        <RunCharts history={history} />
      </ChartBoundary>
      <section className="card" aria-labelledby="windows-title">
        <h2 id="windows-title">Windows</h2>
        <div className="table-scroll">
          <table data-testid="dashboard-windows">
            <thead>
              <tr>
                <th scope="col">Window</th>
                <th scope="col">Accepted</th>
                <th scope="col">Refused</th>
                <th scope="col">Validation loss</th>
                <th scope="col">Model hash after</th>
              </tr>
            </thead>
            <tbody>
              {status.windows.map((w) => (
                <tr key={w.window} data-window={w.window}>
                  <td>{w.window}</td>
                  <td>{w.accepted}</td>
                  <td>{w.rejected}</td>
                  <td>{w.valLoss?.toFixed(3) ?? '–'}</td>
                  <td>
                    <code>{w.nextHash.slice(0, 16)}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
      <section className="card" aria-labelledby="peers-title">
        <h2 id="peers-title">Peers</h2>
        <div className="table-scroll">
          <table data-testid="dashboard-peers">
            <thead>
              <tr>
                <th scope="col">Address</th>
                <th scope="col">Accepted</th>
                <th scope="col">Refused</th>
                <th scope="col">Rating (μ − 3σ)</th>
                <th scope="col">Proof of work</th>
                <th scope="col">Share of weights</th>
              </tr>
            </thead>
            <tbody>
              {status.addresses.map((a) => (
                <tr key={a.address} data-address={a.address}>
                  <td>
                    <code title={a.address}>{short(a.address)}</code>
                  </td>
                  <td>{a.accepted}</td>
                  <td>{a.rejected}</td>
                  <td>{a.ordinal.toFixed(2)}</td>
                  <td>{(a.powEma * 100).toFixed(0)}%</td>
                  <td>{totalWeight > 0 ? `${((100 * a.weight) / totalWeight).toFixed(1)}%` : '–'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
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
