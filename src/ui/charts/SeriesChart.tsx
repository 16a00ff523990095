// One uPlot chart for any aligned series: built once per set of series, then fed with setData
// (downsampled to the chart's width), so live updates never rebuild the chart or the React tree.
import { useEffect, useMemo, useRef, type ReactNode } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { downsample, type Aligned } from './downsample';
import { lastValue, readable, tickLabels } from './format';
import { CHART_COLORS, useColorScheme, type ChartColor } from './palette';

export interface SeriesSpec {
  label: string;
  /** A palette colour: drawn in the shade for the page's colour scheme. */
  color: ChartColor;
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
const AXIS_FONT = '12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
/** x is a window or step number: ticks at whole numbers only. */
const WHOLE_INCRS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 2e6, 5e6, 1e7];

let measurer: CanvasRenderingContext2D | null | undefined;
function textWidth(text: string): number {
  if (measurer === undefined) measurer = document.createElement('canvas').getContext('2d');
  if (!measurer) return 7 * text.length;
  measurer.font = AXIS_FONT;
  return measurer.measureText(text).width;
}

/** A y axis as wide as its longest tick label (plus tick and gap), so no label is clipped. */
function yAxisSize(_u: uPlot, values: string[] | null): number {
  const longest = Math.max(0, ...(values ?? []).map(textWidth));
  return Math.ceil(10 + 5 + longest + 4);
}

/**
 * A nearly flat series is not zoomed into its noise: a y range spans at least 1% of its
 * magnitude (a compression ratio of 172.88…172.93 reads as a flat 173, not three ticks).
 */
function yRange(_u: uPlot, min: number | null, max: number | null): uPlot.Range.MinMax {
  if (min === null || max === null || !Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  const floor = 0.01 * Math.max(Math.abs(min), Math.abs(max));
  if (max > min && max - min < floor) {
    const mid = (min + max) / 2;
    [min, max] = [mid - floor / 2, mid + floor / 2];
  }
  return uPlot.rangeNum(min, max, 0.1, true);
}

export function SeriesChart(p: SeriesChartProps): ReactNode {
  const host = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  const height = p.height ?? HEIGHT;
  const palette = CHART_COLORS[useColorScheme()];
  // The chart is rebuilt only when the set of series (or the colour scheme) changes, not per update.
  const shape = JSON.stringify([p.series.map((s) => ({ ...s, stroke: palette[s.color] })), p.yLabels, p.xLabel, height]);
  const latest = useRef(p.data);
  // Declared first, so a rebuilt chart starts from the newest data (effects run in order).
  useEffect(() => {
    latest.current = p.data;
  }, [p.data]);

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const [series, yLabels, xLabel] = JSON.parse(shape) as [(SeriesSpec & { stroke: string })[], Record<string, string>, string];
    const width = (): number => Math.max(260, el.clientWidth);
    const scales = Object.keys(yLabels);
    // The tick labels last drawn, per axis, for tests and anyone inspecting the page.
    const ticks: string[][] = [];
    const values =
      (axis: number) =>
      (_u: uPlot, splits: number[], _axisIdx: number, _space: number, incr: number): string[] =>
        (ticks[axis] = tickLabels(splits, incr));
    // With the pointer off the chart the legend shows each series' latest value, not "--".
    const legendValue = (u: uPlot, v: number | null, sidx: number, idx: number | null | undefined): string => {
      const shown = idx === null || idx === undefined ? lastValue(u.data[sidx]) : v;
      return shown === null ? '–' : readable(shown);
    };
    chart.current = new uPlot(
      {
        width: width(),
        height,
        scales: { x: { time: false }, ...Object.fromEntries(scales.map((s) => [s, { range: yRange }])) },
        axes: [
          { label: xLabel, stroke: 'currentColor', font: AXIS_FONT, incrs: WHOLE_INCRS, values: values(0) },
          ...scales.map((scale, i) => ({
            scale,
            label: yLabels[scale],
            stroke: 'currentColor',
            font: AXIS_FONT,
            side: i === 0 ? 3 : 1,
            grid: { show: i === 0 },
            size: yAxisSize,
            values: values(i + 1),
          })),
        ],
        legend: { live: true },
        series: [
          { label: xLabel, value: legendValue },
          ...series.map((s) => ({ label: s.label, stroke: s.stroke, width: 2, scale: s.scale ?? 'y', dash: s.dash, spanGaps: true, value: legendValue })),
        ],
        hooks: {
          draw: [
            () => {
              el.dataset.ticks = JSON.stringify(ticks);
            },
          ],
        },
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
  const summary = useMemo(() => describe(p.title, p.xLabel, p.series, p.data), [p.title, p.xLabel, p.series, p.data]);
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
function describe(title: string, xLabel: string, series: readonly SeriesSpec[], data: Aligned): string {
  const last = series.map((s, i) => {
    const v = lastValue(data[i + 1]);
    return `${s.label} ${v === null ? 'none yet' : readable(v)}`;
  });
  return `${title}, ${data[0].length} points by ${xLabel}; latest: ${last.join(', ')}`;
}
