// What a closed window does to the addresses' standings and to the weights they earn: one rule
// for the validator's loop and for anything that rebuilds a ledger from verdicts (tests, tools).
import type { Verdict } from './gauntlet';
import { rewardScore, updateStandings, type Standing, type WindowOutcome } from './ratings';
import { provesWork } from './scoring';
import { toU16Weights, type AddressWeight } from './weights';

/** Verdicts that say something about the address's behaviour (its header was authentic). */
export function outcomeOf(v: Verdict): WindowOutcome | undefined {
  // Real work behind another update is still refused for cause: its receipts earn nothing.
  if (v.code === 'inconsistent-update') return { address: v.address, kind: 'penalty' };
  if (v.score)
    return {
      address: v.address,
      kind: 'scored',
      score: v.score.random,
      pow: provesWork(v.score),
      work: v.steps,
      ...(v.score.evidence ? { evidence: v.score.evidence } : {}),
    };
  if (v.code === 'accepted-unscored') return { address: v.address, kind: 'skip' };
  if (['stale-base', 'too-few-steps', 'too-many-steps', 'wrong-units', 'late', 'duplicate-payload', 'undecodable', 'norm-outlier', 'copy'].includes(v.code))
    return { address: v.address, kind: 'penalty' };
  return undefined; // wrong run/window, unauthorized, same key or address: not attributable
}

/**
 * Standings after window `window`'s verdicts, and the weights: only addresses that ever sent a
 * contribution able to earn (a wallet's certificate; `earners`) get any.
 */
export function standingsAfter(
  prev: ReadonlyMap<string, Standing>,
  window: number,
  verdicts: readonly Verdict[],
  earners: ReadonlySet<string>,
): { standings: Map<string, Standing>; weights: AddressWeight[] } {
  const standings = updateStandings(
    prev,
    window,
    verdicts.flatMap((v) => outcomeOf(v) ?? []),
  );
  const weights = toU16Weights(new Map([...standings.values()].filter((s) => earners.has(s.address)).map((s) => [s.address, rewardScore(s)])));
  return { standings, weights };
}
