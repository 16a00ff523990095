// Live train/validation loss chart with uPlot: created once, fed with setData as points
// arrive, so a long run never re-renders the React tree or rebuilds the chart.
import { useEffect, useRef, type ReactNode } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { LossPoint } from './useTrainer';

/** Aligns two series on one step axis, as uPlot wants (null where a series has no point). */
function align(train: LossPoint[], val: LossPoint[]): uPlot.AlignedData {
  const steps = [...new Set([...train.map((p) => p.step), ...val.map((p) => p.step)])].sort((a, b) => a - b);
  const t = new Map(train.map((p) => [p.step, p.loss]));
  const v = new Map(val.map((p) => [p.step, p.loss]));
  return [steps, steps.map((s) => t.get(s) ?? null), steps.map((s) => v.get(s) ?? null)];
}

export function LossChart(props: { train: LossPoint[]; val: LossPoint[] }): ReactNode {
  const host = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const width = (): number => Math.max(280, el.clientWidth);
    chart.current = new uPlot(
      {
        width: width(),
        height: 260,
        scales: { x: { time: false } },
        axes: [{ label: 'step', stroke: 'currentColor' }, { label: 'loss', stroke: 'currentColor' }],
        series: [{ label: 'step' }, { label: 'train', stroke: '#60a5fa', width: 2, spanGaps: true }, { label: 'validation', stroke: '#f87171', width: 2, spanGaps: true }],
      },
      [[], [], []],
      el,
    );
    const onResize = (): void => chart.current?.setSize({ width: width(), height: 260 });
    window.addEventListener('resize', onResize);
    return () => {
      window.removeEventListener('resize', onResize);
      chart.current?.destroy();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    chart.current?.setData(align(props.train, props.val));
  }, [props.train, props.val]);

  const first = props.train[0]?.loss;
  const last = props.train[props.train.length - 1]?.loss;
  return (
    <div
      ref={host}
      className="loss-chart"
      role="img"
      aria-label={`Loss chart: ${props.train.length} training points, ${props.val.length} validation points`}
      data-testid="loss-chart"
      data-train-points={props.train.length}
      data-first-train={first}
      data-last-train={last}
    />
  );
}
