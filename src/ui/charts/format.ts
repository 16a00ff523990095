// How charts write numbers: tick labels with as many decimals as their spacing needs (never
// two equal labels on one axis), and legend values to four significant digits.

/** Decimals that tell ticks `incr` apart: 0.025 → 3, 0.5 → 1, 20 → 0. */
export function decimalsFor(incr: number): number {
  if (!(incr > 0) || !Number.isFinite(incr)) return 0;
  let d = Math.max(0, -Math.floor(Math.log10(incr)));
  while (d < 8 && Math.abs(Math.round(incr * 10 ** d) - incr * 10 ** d) > 1e-6) d++;
  return d;
}

/** Tick labels with the decimals the increment needs; a label equal to the previous one is left blank. */
export function tickLabels(splits: readonly (number | null)[], incr: number): string[] {
  const d = decimalsFor(incr);
  let previous = '';
  return splits.map((v) => {
    if (v === null || !Number.isFinite(v)) return '';
    const label = Math.abs(v) >= 1e5 ? `${Number((v / 1e3).toFixed(0))}k` : v.toFixed(d);
    if (label === previous) return '';
    previous = label;
    return label;
  });
}

/** A legend or summary value: four significant digits. */
export const readable = (v: number): string => String(Number(v.toPrecision(4)));

/** The newest finite value of a column (null: none). */
export function lastValue(col: ArrayLike<number | null | undefined> | undefined): number | null {
  if (!col) return null;
  for (let i = col.length - 1; i >= 0; i--) {
    const v = col[i];
    if (v !== null && v !== undefined && Number.isFinite(v)) return v;
  }
  return null;
}
