// The trainer's live train/validation loss chart by step: a SeriesChart over the two curves.
import { useMemo, type ReactNode } from 'react';
import { alignSeries } from './charts/downsample';
import { SeriesChart, type SeriesSpec } from './charts/SeriesChart';
import type { LossPoint } from './useTrainer';

const SERIES: SeriesSpec[] = [
  { label: 'train', color: 'blue' },
  { label: 'validation', color: 'red' },
];

export function LossChart(props: { train: LossPoint[]; val: LossPoint[] }): ReactNode {
  const data = useMemo(
    () => alignSeries([new Map(props.train.map((p) => [p.step, p.loss])), new Map(props.val.map((p) => [p.step, p.loss]))]),
    [props.train, props.val],
  );
  const first = props.train[0]?.loss;
  const last = props.train[props.train.length - 1]?.loss;
  return (
    <div className="loss-chart" data-testid="loss-chart" data-train-points={props.train.length} data-first-train={first} data-last-train={last}>
      <SeriesChart title="Loss by step" xLabel="step" yLabels={{ y: 'loss' }} series={SERIES} data={data} testId="loss-chart-plot" height={260} />
    </div>
  );
}
