// Contributors' page: connect a Polkadot/Bittensor wallet extension, choose an account, have it
// sign (once) a certificate for this browser's session key, and see what that key contributed.
import { useEffect, useState, type ReactNode } from 'react';
import type { RunConfig } from '../../protocol/runConfig';
import { choose, connect, loadSession, signCertificate, useWallet, type WalletView } from '../useWallet';
import { fetchJson } from '../fetchJson';
import { ScoreHistory } from '../ScoreHistory';
import { usePolling } from '../usePolling';
import { fetchPublishedRun } from '../useSwarm';
import { verifiedWorkWords } from '../verifiedWork';

const when = (s: number): string => new Date(s * 1000).toLocaleString();

function Problem(props: { status: WalletView['status']; installed: string[] }): ReactNode {
  const text: Partial<Record<WalletView['status'], ReactNode>> = {
    'no-extension': (
      <>
        No wallet extension was found in this browser. Install polkadot&#123;.js&#125;, Talisman or SubWallet, create or import your Bittensor account in it,
        then reload this page. You can volunteer without a wallet meanwhile; your work then earns nothing.
      </>
    ),
    rejected: (
      <>
        {props.installed.join(', ')} did not give Tessera access. Open the extension, allow this site (in polkadot&#123;.js&#125;: Settings → Manage website
        access), then connect again.
      </>
    ),
    'no-accounts': (
      <>
        The wallet gave access but shares no accounts with this site. Create or import an account in the extension (or allow it for this site), then connect
        again.
      </>
    ),
    'account-missing': <>The account you chose before is no longer offered by your wallet (removed, or hidden from this site). Choose another account below.</>,
  };
  const body = text[props.status];
  return body ? (
    <div className="card card-warning" role="alert" data-testid="wallet-problem" data-kind={props.status}>
      <p>{body}</p>
    </div>
  ) : null;
}

interface AddressRow {
  address: string;
  accepted: number;
  rejected: number;
  reward: number;
  weight: number;
  workEma?: number;
  gathering?: number;
}

/** The account's line in the validator's status (relayed at /api/status), refreshed every 10 s. */
function Standing(props: { address: string }): ReactNode {
  // Keyed by address: after choosing another account, the previous one's line is never shown.
  const [view, setView] = useState<{ address: string; text?: string; error?: string }>({ address: props.address });
  usePolling(
    async (active) => {
      const address = props.address;
      try {
        const rows = ((await fetchJson('/api/status')) as { addresses?: AddressRow[] }).addresses ?? [];
        const me = rows.find((a) => a.address === address);
        const total = rows.reduce((s, a) => s + (Number(a.weight) || 0), 0);
        const text = me
          ? `reward score ${me.reward.toExponential(2)}, ${total > 0 ? ((100 * me.weight) / total).toFixed(1) : '0'}% of the weights, verified work ${verifiedWorkWords(me)} (${me.accepted} accepted, ${me.rejected} refused)`
          : 'the validator has not scored this account yet';
        if (active()) setView({ address, text });
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        if (active()) setView((v) => ({ address, text: v.address === address ? v.text : undefined, error }));
      }
    },
    10_000,
    props.address,
  );
  if (view.address !== props.address || (view.text === undefined && view.error === undefined)) return '…';
  if (view.text === undefined) return `the validator's status is unavailable (${view.error})`;
  return view.error === undefined ? view.text : `${view.text} (not updated: ${view.error})`;
}

export function WalletPage(): ReactNode {
  const w = useWallet();
  const [run, setRun] = useState<RunConfig | undefined>();
  useEffect(() => {
    fetchPublishedRun()
      .then((p) => {
        setRun(p?.run);
        return loadSession(p?.run);
      })
      .catch(() => loadSession(undefined));
  }, []);
  const cert = w.certificate;
  const certValid = cert && !w.certificateProblem && cert.walletAddress === w.chosen?.address;
  return (
    <section data-testid="wallet-page" data-status={w.status}>
      <h1>Wallet</h1>
      <p>
        Connect a Polkadot or Bittensor wallet so that the work your GPU does earns TAO. The wallet signs once: a certificate that lets this browser’s session
        key sign each contribution for {run ? <code>{run.runId}</code> : 'this run'} until it expires. The session key cannot move funds.
      </p>
      <div className="controls">
        <button type="button" onClick={() => void connect()} disabled={w.status === 'connecting'} data-testid="wallet-connect">
          {w.status === 'connecting' ? 'Connecting…' : w.status === 'ready' ? 'Reconnect' : 'Connect wallet'}
        </button>
      </div>
      <Problem status={w.status} installed={w.installed} />
      {w.error && (
        <p className="bad" role="alert" data-testid="wallet-error">
          {w.error}
        </p>
      )}
      {w.accounts.length > 0 && (
        <fieldset className="card">
          <legend>Account</legend>
          {w.accounts.map((a) => (
            <label key={`${a.source}/${a.address}`} className="account-choice">
              <input type="radio" name="account" checked={w.chosen?.address === a.address && w.chosen.source === a.source} onChange={() => choose(a)} />
              <span>
                {a.name ?? 'Unnamed'} <code className="address">{a.address}</code> <span className="note">({a.source})</span>
              </span>
            </label>
          ))}
        </fieldset>
      )}
      {w.chosen && (
        <section className="card" aria-labelledby="cert-title" data-testid="wallet-certificate" data-valid={certValid ? 'yes' : 'no'}>
          <h2 id="cert-title">Session key certificate</h2>
          <dl className="facts">
            <dt>Account</dt>
            <dd>
              <code className="address" data-testid="wallet-address">
                {w.chosen.address}
              </code>
            </dd>
            <dt>Session key</dt>
            <dd>
              <code className="address">{w.sessionAddress ?? '…'}</code>
            </dd>
            <dt>Certificate</dt>
            <dd data-testid="wallet-cert-state">
              {certValid && cert
                ? `valid until ${when(cert.expiresAt)}`
                : cert && w.certificateProblem
                  ? `not usable: ${w.certificateProblem}`
                  : cert
                    ? 'signed by another account'
                    : 'not signed yet'}
            </dd>
            <dt>Contributions</dt>
            <dd data-testid="wallet-counts">
              {w.counts?.signed ?? 0} signed, {w.counts?.accepted ?? 0} accepted
            </dd>
            <dt>Score and share of weights</dt>
            <dd data-testid="wallet-standing">
              <Standing address={w.chosen.address} />
            </dd>
          </dl>
          {run ? (
            <button type="button" onClick={() => void signCertificate(run)} disabled={w.signing} data-testid="wallet-sign">
              {w.signing ? 'Waiting for your wallet…' : certValid ? 'Renew certificate' : 'Sign certificate'}
            </button>
          ) : (
            <p className="note">This server hosts no swarm run, so there is nothing to sign a certificate for.</p>
          )}
        </section>
      )}
      {w.chosen && run && <ScoreHistory address={w.chosen.address} />}
    </section>
  );
}
