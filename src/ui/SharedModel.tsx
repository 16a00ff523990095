// The swarm's model on the Volunteer page: its validation loss by window as the validator
// measured it, so a volunteer sees what the shared work is doing; "Try the model" sits below.
import { useMemo, type ReactNode } from 'react';
import type { Aligned } from './charts/downsample';
import { SeriesChart, type SeriesSpec } from './charts/SeriesChart';
import { useRunHistory } from './useRunHistory';

const SERIES: SeriesSpec[] = [{ label: 'validation loss (measured)', color: 'red' }];

export function SharedModel(): ReactNode {
  const { history, error } = useRunHistory();
  const { windows } = history;
  const data = useMemo((): Aligned => [windows.map((w) => w.window), windows.map((w) => w.valLoss)], [windows]);
  const last = windows.at(-1);
  return (
    <section className="card" aria-labelledby="shared-title" data-testid="shared-model" data-windows={windows.length}>
      <h2 id="shared-title">The swarm’s model</h2>
      <p className="note">
        The loss of the model everyone trains, on held-out text the validator measures after each window: lower is better.
        {last?.valLoss !== null && last?.valLoss !== undefined && ` After window ${last.window}: ${last.valLoss.toFixed(3)}.`}
      </p>
      {error && windows.length === 0 ? (
        <p className="note">No validator history here ({error}).</p>
      ) : windows.length === 0 ? (
        <p className="note">No window has closed yet.</p>
      ) : (
        <SeriesChart title="Validation loss" xLabel="window" yLabels={{ y: 'loss (nats/token)' }} series={SERIES} data={data} testId="volunteer-loss-chart" />
      )}
    </section>
  );
}
