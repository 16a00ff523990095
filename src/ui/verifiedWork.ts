// An address's verified work in words, for the Dashboard and the Wallet page: the inner steps
// a window whose proof held (a moving average), and evidence still being gathered.

/** '–' for a validator that does not report it (before 2026-12-04). */
export function verifiedWorkWords(a: { workEma?: number; gathering?: number }): string {
  if (typeof a.workEma !== 'number' || !Number.isFinite(a.workEma)) return '–';
  const base = `${a.workEma.toFixed(1)} steps a window`;
  const n = a.gathering ?? 0;
  // Why a new volunteer has no reward yet: its first windows' pages are pooled until they can be judged.
  return n > 0 ? `${base}, gathering evidence (${n} window${n === 1 ? '' : 's'})` : base;
}
