// Chart colours that stay readable: every line reaches at least 3:1 against the card it is
// drawn on (#16203a dark, #ffffff light; checked in e2e/a11y.spec.ts), so the palette
// follows the page's colour scheme the way styles.css does.
import { useSyncExternalStore } from 'react';

export type ChartColor = 'blue' | 'red' | 'green' | 'amber' | 'violet' | 'pink' | 'cyan' | 'orange';
export type ColorScheme = 'dark' | 'light';

/** Dark: Tailwind's 400 shades (≥ 5.8:1 on #16203a). Light: 600/700 shades (≥ 4.3:1 on #ffffff and #f7f8fb). */
export const CHART_COLORS: Record<ColorScheme, Record<ChartColor, string>> = {
  dark: { blue: '#60a5fa', red: '#f87171', green: '#34d399', amber: '#fbbf24', violet: '#a78bfa', pink: '#f472b6', cyan: '#22d3ee', orange: '#fb923c' },
  light: { blue: '#2563eb', red: '#dc2626', green: '#047857', amber: '#b45309', violet: '#7c3aed', pink: '#db2777', cyan: '#0e7490', orange: '#c2410c' },
};

/** Colours for an open-ended list of series (one per peer), in this order. */
export const SERIES_CYCLE: readonly ChartColor[] = ['blue', 'red', 'green', 'amber', 'violet', 'pink', 'cyan', 'orange'];

const LIGHT = '(prefers-color-scheme: light)';

function subscribe(onChange: () => void): () => void {
  const query = window.matchMedia(LIGHT);
  query.addEventListener('change', onChange);
  return () => query.removeEventListener('change', onChange);
}

const current = (): ColorScheme => (window.matchMedia(LIGHT).matches ? 'light' : 'dark');

/** The scheme styles.css is showing; charts re-render with the other palette when it changes. */
export function useColorScheme(): ColorScheme {
  return useSyncExternalStore(subscribe, current, () => 'dark');
}
