// One uPlot chart for any aligned series: built once per set of series, then fed with setData
// (downsampled to the chart's width), so live updates never rebuild the chart or the React tree.
import { useEffect, useMemo, useRef, type ReactNode } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { downsample, type Aligned } from './downsample';

export interface SeriesSpec {
  label: string;
  stroke: string;
  /** The y scale this series uses (default 'y'); a second scale gets its own axis on the right. */
  scale?: string;
  dash?: number[];
}

export interface SeriesChartProps {
  title: string;
  xLabel: string;
  /** Label of each y scale used, by scale name ('y' first). */
  yLabels: Record<string, string>;
  series: SeriesSpec[];
  data: Aligned;
  testId: string;
  height?: number;
}

const HEIGHT = 220;

export function SeriesChart(p: SeriesChartProps): ReactNode {
  const host = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  const height = p.height ?? HEIGHT;
  // The chart is rebuilt only when the set of series changes (a new top peer), not per update.
  const shape = JSON.stringify([p.series, p.yLabels, p.xLabel, height]);
  const latest = useRef(p.data);
  // Declared first, so a rebuilt chart starts from the newest data (effects run in order).
  useEffect(() => {
    latest.current = p.data;
  }, [p.data]);

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const [series, yLabels, xLabel] = JSON.parse(shape) as [SeriesSpec[], Record<string, string>, string];
    const width = (): number => Math.max(260, el.clientWidth);
    const scales = Object.keys(yLabels);
    chart.current = new uPlot(
      {
        width: width(),
        height,
        scales: { x: { time: false } },
        axes: [
          { label: xLabel, stroke: 'currentColor' },
          ...scales.map((scale, i) => ({ scale, label: yLabels[scale], stroke: 'currentColor', side: i === 0 ? 3 : 1, grid: { show: i === 0 } })),
        ],
        series: [{ label: xLabel }, ...series.map((s) => ({ label: s.label, stroke: s.stroke, width: 2, scale: s.scale ?? 'y', dash: s.dash, spanGaps: true }))],
      },
      downsample(latest.current, width()) as uPlot.AlignedData,
      el,
    );
    const onResize = (): void => chart.current?.setSize({ width: width(), height });
    window.addEventListener('resize', onResize);
    return () => {
      window.removeEventListener('resize', onResize);
      chart.current?.destroy();
      chart.current = null;
    };
  }, [shape, height]);

  useEffect(() => {
    const c = chart.current;
    if (c) c.setData(downsample(p.data, Math.max(260, c.width)) as uPlot.AlignedData);
  }, [p.data]);

  const points = useMemo(() => p.data[1]?.filter((v) => v !== null).length ?? 0, [p.data]);
  const summary = useMemo(() => describe(p), [p]);
  return (
    <figure className="chart" aria-labelledby={`${p.testId}-title`}>
      <figcaption id={`${p.testId}-title`}>
        {p.title}
        {points === 0 && <span className="note"> · no points yet</span>}
      </figcaption>
      <div ref={host} className="chart-plot" role="img" aria-label={summary} data-testid={p.testId} data-points={points} data-x-count={p.data[0].length} />
    </figure>
  );
}

/** A screen reader's version of the chart: each series' latest value. */
function describe(p: SeriesChartProps): string {
  const last = p.series.map((s, i) => {
    const col = p.data[i + 1] ?? [];
    const v = [...col].reverse().find((x) => x !== null);
    return `${s.label} ${v === undefined || v === null ? 'none yet' : Number(v.toPrecision(4))}`;
  });
  return `${p.title}, ${p.data[0].length} points by ${p.xLabel}; latest: ${last.join(', ')}`;
}
