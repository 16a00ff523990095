// One address's record from the validator's ledger (/api/status/address), polled: what the
// Wallet page charts and the Volunteer page uses to say why a window was not accepted.
import { useState } from 'react';
import type { AddressHistory } from '../validator/status';
import { fetchJson } from './fetchJson';
import { usePolling } from './usePolling';
import { parseAddressHistory } from './useRunHistory';

const REFRESH_MS = 10_000;

interface AddressView {
  /** The address these answers are about: another address's record is never shown. */
  address: string;
  history?: AddressHistory;
  /** The last poll failed; `history` (if any) is the last good answer. */
  error?: string;
}

/** `address` undefined (not known yet): nothing is asked. */
export function useAddressHistory(address: string | undefined): Omit<AddressView, 'address'> {
  const [view, setView] = useState<AddressView>({ address: address ?? '' });
  usePolling(
    async (active) => {
      if (address === undefined) return;
      try {
        const history = parseAddressHistory(await fetchJson(`/api/status/address?address=${encodeURIComponent(address)}`));
        if (active()) setView({ address, history });
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        // One failed poll keeps the record on screen (with a note); a new address starts empty.
        if (active()) setView((v) => ({ address, history: v.address === address ? v.history : undefined, error }));
      }
    },
    REFRESH_MS,
    address ?? '',
  );
  return view.address === address ? view : {};
}
