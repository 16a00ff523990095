// The dashboard's charts of the run by window: validation and reported training loss, each
// busy peer's training loss, tokens/s, peers, and bytes moved with the compression ratio.
import { useMemo, type ReactNode } from 'react';
import type { WindowPoint } from '../validator/status';
import type { Aligned } from './charts/downsample';
import { SERIES_CYCLE } from './charts/palette';
import { SeriesChart, type SeriesSpec } from './charts/SeriesChart';
import type { RunHistory } from './useRunHistory';

/** Per-peer curves beyond this many would be unreadable: the busiest peers are drawn. */
const MAX_PEER_SERIES = 8;

const column = (ws: readonly WindowPoint[], f: (w: WindowPoint) => number | null): (number | null)[] => ws.map(f);
const perSecond = (w: WindowPoint): number | null => (w.durationMs > 0 ? (1000 * w.tokens) / w.durationMs : null);

function busiestPeers(losses: RunHistory['losses']): string[] {
  return [...losses.entries()]
    .sort((a, b) => b[1].size - a[1].size || a[0].localeCompare(b[0]))
    .slice(0, MAX_PEER_SERIES)
    .map(([address]) => address);
}

const shortAddress = (a: string): string => `${a.slice(0, 6)}…${a.slice(-4)}`;

export function RunCharts({ history }: { history: RunHistory }): ReactNode {
  const { windows, losses } = history;
  const xs = useMemo(() => windows.map((w) => w.window), [windows]);
  const loss = useMemo((): Aligned => [xs, column(windows, (w) => w.valLoss), column(windows, (w) => w.trainLoss)], [xs, windows]);
  const peers = useMemo(() => busiestPeers(losses), [losses]);
  const peerSeries = useMemo((): SeriesSpec[] => peers.map((a, i) => ({ label: shortAddress(a), color: SERIES_CYCLE[i % SERIES_CYCLE.length] })), [peers]);
  const peerLoss = useMemo((): Aligned => [xs, ...peers.map((a) => xs.map((x) => losses.get(a)?.get(x) ?? null))], [xs, peers, losses]);
  const throughput = useMemo((): Aligned => [xs, column(windows, perSecond)], [xs, windows]);
  const swarm = useMemo(
    (): Aligned => [xs, column(windows, (w) => w.online), column(windows, (w) => w.peers), column(windows, (w) => w.accepted)],
    [xs, windows],
  );
  // kB until a window moves a megabyte: tiny runs would otherwise read 0.008 MB.
  const unit = useMemo(() => (windows.some((w) => w.bytes >= 1e6) ? { label: 'MB', scale: 1e6 } : { label: 'kB', scale: 1e3 }), [windows]);
  const traffic = useMemo(
    (): Aligned => [xs, column(windows, (w) => w.bytes / unit.scale), column(windows, (w) => (w.bytes > 0 ? w.denseBytes / w.bytes : null))],
    [xs, windows, unit],
  );
  const trafficSeries = useMemo(
    (): SeriesSpec[] => [
      { label: `${unit.label} accepted`, color: 'cyan' },
      { label: 'compression ratio', color: 'orange', scale: 'ratio' },
    ],
    [unit],
  );
  const last = windows.at(-1);

  return (
    <section className="card" aria-labelledby="charts-title" data-testid="run-charts" data-windows={windows.length}>
      <h2 id="charts-title">The run by window</h2>
      {windows.length === 0 ? (
        <p className="note">No window has closed yet: the charts start with the validator’s first manifest.</p>
      ) : (
        <p className="note" data-testid="run-charts-latest">
          Window {last?.window}: validation loss {last?.valLoss?.toFixed(3) ?? '–'}, {last?.online ?? '?'} peers online, {last?.peers} contributing,{' '}
          {(perSecond(last as WindowPoint) ?? 0).toFixed(0)} tokens/s
          {last && last.bytes > 0 ? `, ${(last.denseBytes / last.bytes).toFixed(0)}× compression` : ''}
        </p>
      )}
      <div className="chart-grid">
        <SeriesChart title="Loss" xLabel="window" yLabels={{ y: 'loss (nats/token)' }} series={LOSS_SERIES} data={loss} testId="dashboard-loss-chart" />
        <SeriesChart
          title="Training loss per peer (reported)"
          xLabel="window"
          yLabels={{ y: 'loss' }}
          series={peerSeries}
          data={peerLoss}
          testId="dashboard-peer-loss-chart"
        />
        <SeriesChart
          title="Swarm throughput"
          xLabel="window"
          yLabels={{ y: 'tokens/s' }}
          series={THROUGHPUT_SERIES}
          data={throughput}
          testId="dashboard-throughput-chart"
        />
        <SeriesChart title="Peers" xLabel="window" yLabels={{ y: 'count' }} series={PEER_SERIES} data={swarm} testId="dashboard-peers-chart" />
        <SeriesChart
          title="Update traffic"
          xLabel="window"
          yLabels={{ y: `${unit.label} accepted`, ratio: 'compression ×' }}
          series={trafficSeries}
          data={traffic}
          testId="dashboard-traffic-chart"
        />
      </div>
    </section>
  );
}

const LOSS_SERIES: SeriesSpec[] = [
  { label: 'validation (measured)', color: 'red' },
  { label: 'training (peers’ mean, reported)', color: 'blue', dash: [6, 4] },
];
const THROUGHPUT_SERIES: SeriesSpec[] = [{ label: 'accepted tokens/s', color: 'green' }];
const PEER_SERIES: SeriesSpec[] = [
  { label: 'peers online', color: 'cyan' },
  { label: 'peers contributing', color: 'violet' },
  { label: 'contributions accepted', color: 'amber', dash: [6, 4] },
];
