// "What this browser has done": its totals for the run (kept across reloads), the address it
// earns for, and that address's share of the weights and rank from the validator's status.
import { useState, type ReactNode } from 'react';
import type { StatusSnapshot } from '../validator/status';
import type { BrowserTotals } from './browserTotals';
import { fetchJson } from './fetchJson';
import { usePolling } from './usePolling';

interface Standing {
  share: number;
  rank: number;
  of: number;
}

/** The address's share of the weights and its rank among the run's addresses (by weight), polled. */
function useStanding(address: string | undefined): Standing | 'unranked' | undefined {
  const [standing, setStanding] = useState<Standing | 'unranked'>();
  usePolling(async (active) => {
    if (!address) return;
    try {
      const status = (await fetchJson('/api/status')) as StatusSnapshot;
      const total = status.addresses.reduce((s, a) => s + a.weight, 0);
      const mine = status.addresses.find((a) => a.address === address);
      const next =
        mine && total > 0 && mine.weight > 0
          ? { share: mine.weight / total, rank: 1 + status.addresses.filter((a) => a.weight > mine.weight).length, of: status.addresses.length }
          : 'unranked';
      if (active()) setStanding(next);
    } catch {
      // No validator relayed here: the totals still show; standing is simply not known.
    }
  }, 10_000);
  return standing;
}

export function BrowserRecord({ totals, address, earning }: { totals: BrowserTotals; address?: string; earning?: boolean }): ReactNode {
  const standing = useStanding(address);
  return (
    <div
      className="record"
      data-testid="browser-record"
      data-windows={totals.windows}
      data-accepted={totals.accepted}
      data-refused={totals.refused}
      data-tokens={totals.tokens}
    >
      <h3>What this browser has done</h3>
      <p>
        {totals.tokens.toLocaleString('en-US')} tokens trained · {totals.windows} window{totals.windows === 1 ? '' : 's'} contributed: {totals.accepted}{' '}
        accepted, {totals.refused} refused (the reasons are in the table below)
      </p>
      {address && (
        <p className="note" data-testid="browser-standing">
          Earning for <code className="address">{address}</code>
          {!earning && ' (an anonymous key: connect a wallet to earn)'}
          {standing === undefined
            ? ''
            : standing === 'unranked'
              ? ': no share of the weights yet.'
              : `: ${(100 * standing.share).toFixed(1)}% of the weights, rank ${standing.rank} of ${standing.of} addresses.`}
        </p>
      )}
    </div>
  );
}
