// Keeps charts smooth on long runs: aligned series (x, then y columns with gaps as null) are
// averaged into at most `maxPoints` buckets before uPlot draws them; short series pass through.

export type Column = (number | null)[];
/** uPlot's aligned layout: x values, then one column per series of the same length. */
export type Aligned = [number[], ...Column[]];

/**
 * Consecutive points fall into equal-count buckets; each bucket is drawn at its first x with the
 * mean of each series' non-null values there (null if it had none, so a gap stays a gap).
 */
export function downsample(data: Aligned, maxPoints: number): Aligned {
  const [xs, ...ys] = data;
  if (xs.length <= maxPoints || maxPoints < 1) return data;
  const size = xs.length / maxPoints;
  const outX: number[] = [];
  const outY: Column[] = ys.map(() => []);
  for (let b = 0; b < maxPoints; b++) {
    const from = Math.floor(b * size);
    const to = Math.floor((b + 1) * size);
    outX.push(xs[from]);
    ys.forEach((col, s) => {
      let sum = 0;
      let n = 0;
      for (let i = from; i < to; i++) {
        const v = col[i];
        if (v !== null && Number.isFinite(v)) [sum, n] = [sum + v, n + 1];
      }
      outY[s].push(n ? sum / n : null);
    });
  }
  return [outX, ...outY];
}

/** Joins point lists keyed by x into aligned columns (x ascending, null where a series has no point). */
export function alignSeries(series: ReadonlyMap<number, number>[]): Aligned {
  const xs = [...new Set(series.flatMap((s) => [...s.keys()]))].sort((a, b) => a - b);
  return [xs, ...series.map((s) => xs.map((x) => s.get(x) ?? null))];
}
