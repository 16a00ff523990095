// Renders loss curves as a standalone SVG (no dependencies): train and validation loss
// against the step, with labelled axes, for the trainer's output folder and the docs.

export interface Series {
  label: string;
  color: string;
  points: readonly { step: number; loss: number }[];
}

const W = 720;
const H = 400;
const PAD = { left: 56, right: 16, top: 28, bottom: 44 };

function niceTicks(lo: number, hi: number, count: number): number[] {
  const span = hi - lo || 1;
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

const escape = (s: string): string => s.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);

export function lossPlotSvg(title: string, series: readonly Series[]): string {
  const all = series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.loss));
  const maxStep = Math.max(1, ...all.map((p) => p.step));
  const minLoss = Math.min(...all.map((p) => p.loss), Infinity);
  const maxLoss = Math.max(...all.map((p) => p.loss), -Infinity);
  const lo = Number.isFinite(minLoss) ? Math.max(0, minLoss - 0.05 * (maxLoss - minLoss)) : 0;
  const hi = Number.isFinite(maxLoss) ? maxLoss + 0.05 * (maxLoss - minLoss || 1) : 1;
  const x = (step: number): number => PAD.left + (step / maxStep) * (W - PAD.left - PAD.right);
  const y = (loss: number): number => H - PAD.bottom - ((loss - lo) / (hi - lo)) * (H - PAD.top - PAD.bottom);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${W / 2}" y="18" text-anchor="middle" font-size="14">${escape(title)}</text>`,
  ];
  for (const t of niceTicks(lo, hi, 6)) {
    parts.push(
      `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(t)}" y2="${y(t)}" stroke="#e5e7eb"/>`,
      `<text x="${PAD.left - 6}" y="${y(t) + 4}" text-anchor="end">${t}</text>`,
    );
  }
  for (const t of niceTicks(0, maxStep, 8)) parts.push(`<text x="${x(t)}" y="${H - PAD.bottom + 16}" text-anchor="middle">${t}</text>`);
  parts.push(
    `<text x="${W / 2}" y="${H - 8}" text-anchor="middle">step</text>`,
    `<text x="14" y="${H / 2}" text-anchor="middle" transform="rotate(-90 14 ${H / 2})">loss (nats/token)</text>`,
  );
  series.forEach((s, i) => {
    const pts = s.points.filter((p) => Number.isFinite(p.loss)).map((p) => `${x(p.step).toFixed(1)},${y(p.loss).toFixed(1)}`);
    if (pts.length) parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="1.5" points="${pts.join(' ')}"/>`);
    parts.push(
      `<rect x="${W - 150}" y="${PAD.top + 4 + i * 18}" width="12" height="3" fill="${s.color}"/>`,
      `<text x="${W - 132}" y="${PAD.top + 9 + i * 18}">${escape(s.label)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}
