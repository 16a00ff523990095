// Contributors' page. Wallet connection and session keys are not built yet; the page says so
// rather than showing controls that do nothing.
import type { ReactNode } from 'react';

export function WalletPage(): ReactNode {
  return (
    <section>
      <h1>Wallet</h1>
      <p>
        Contributors will connect a Polkadot or Bittensor wallet (polkadot&#123;.js&#125;, Talisman, SubWallet) here, so that the work their GPU does earns TAO.
        The wallet signs once; a session key in this browser signs each contribution.
      </p>
      <p className="note" data-testid="not-available">
        Wallet connection is not available in this build yet. You can still volunteer without a wallet.
      </p>
    </section>
  );
}
