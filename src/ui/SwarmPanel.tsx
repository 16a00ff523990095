// Joining the swarm this server hosts: one button, the current window's phase with a progress
// bar, checkpoint download progress, and this tab's contribution history per window.
import { useEffect, useState, type ReactNode } from 'react';
import type { SwarmPhase, WindowReport } from '../swarm/swarmPeer';
import type { PhaseSpan } from './phaseSpan';
import { HeadRow, TableScroll } from './TableScroll';
import { useAddressHistory } from './useAddressHistory';
import { BrowserRecord } from './BrowserRecord';
import { FirstVisitNote } from './FirstVisitNote';
import { PowerSettings } from './PowerSettings';
import { usePower, useWakeLock } from './usePower';
import type { Recovery } from './swarmView';
import { useSwarm, type SwarmView } from './useSwarm';

const PHASE_WORDS: Record<SwarmPhase, string> = {
  syncing: 'Downloading the current model from neighbours',
  training: 'Training on this window’s data',
  uploading: 'Sending the compressed update',
  waiting: 'Waiting for the validator’s manifest',
  stopped: 'Stopped',
};

/** How far along `span` is at `now`, 0…1. */
function spanFraction(span: PhaseSpan, now: number): number {
  const length = span.until - span.from;
  return length > 0 ? Math.min(1, Math.max(0, (now - span.from) / length)) : 1;
}

/** Seconds past its due time after which a missing manifest is called late. */
const MANIFEST_LATE_S = 5;

/** The phase's own clock in words: seconds of training left, or when the manifest is due. */
function phaseClock(phase: SwarmPhase, span: PhaseSpan, now: number): string {
  const left = Math.max(0, Math.round((span.until - now) / 1000));
  if (phase === 'training') return ` (${left} s left)`;
  if (left > 0) return ` (manifest due in ${left} s)`;
  // A volunteer watching a bar stuck at its end should learn why, not guess.
  const late = Math.round((now - span.until) / 1000);
  return late >= MANIFEST_LATE_S ? ` (manifest ${late} s late: the validator may be offline; this tab keeps waiting for it)` : ' (manifest due now)';
}

/**
 * The window's phase with a bar that means something in each phase: training fills toward the
 * training deadline, uploading and waiting toward the manifest's due time (window end + grace).
 * Syncing has no deadline: the model download row below shows its progress instead.
 */
function PhaseRow(props: { phase: SwarmPhase; window?: number; span?: PhaseSpan; now: number }): ReactNode {
  const { phase, span, now } = props;
  const fraction = span ? spanFraction(span, now) : undefined;
  const words = (
    <>
      Window {props.window}: {PHASE_WORDS[phase]}
      {span ? phaseClock(phase, span, now) : ''}
    </>
  );
  return (
    <div className="progress-row" data-testid="swarm-phase" data-phase={phase}>
      {fraction === undefined ? (
        <span>{words}</span>
      ) : (
        <>
          <label htmlFor="swarm-progress">{words}</label>
          <progress
            id="swarm-progress"
            max={1000}
            value={Math.round(1000 * fraction)}
            data-testid="swarm-progress"
            data-phase={phase}
            data-fraction={fraction.toFixed(3)}
          />
        </>
      )}
    </div>
  );
}

/** Re-renders every second while a deadline is shown. */
function useNow(active: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [active]);
  return now;
}

/**
 * The model download: live while chunks arrive, then kept (full, "verified") until this tab's
 * first window ends, so a download that takes a blink on a small model is still seen.
 */
function SyncRow({ sync }: { sync: NonNullable<SwarmView['sync']> }): ReactNode {
  const words = sync.verified
    ? `Model θ_${sync.window} downloaded (${sync.total} chunks) and checked against the validator’s hash`
    : sync.received < sync.total
      ? `Downloading model θ_${sync.window}: ${sync.received} of ${sync.total} chunks`
      : `Checking model θ_${sync.window} against the validator’s hash`;
  return (
    <div className="progress-row">
      <label htmlFor="sync-progress">{words}</label>
      <progress id="sync-progress" max={sync.total} value={sync.received} data-testid="sync-progress" data-verified={sync.verified ? 'true' : 'false'} />
    </div>
  );
}

/** Why the validator did not take a window's contribution, from its ledger ("no-proof-of-work" → "no proof of work"). */
function refusalWords(codes: string[] | undefined): string {
  const words = (codes ?? []).filter((c) => !c.startsWith('accepted')).map((c) => c.replaceAll('-', ' '));
  return words.length ? `not accepted: ${words.join(', ')}` : 'not accepted';
}

/** This tab's windows; a refused one says why when the server relays the validator's ledger. */
function SwarmHistory({ history, address }: { history: WindowReport[]; address?: string }): ReactNode {
  const record = useAddressHistory(address);
  const codes = new Map((record.history?.windows ?? []).map((w) => [w.window, w.codes]));
  return (
    <TableScroll label="This tab’s windows">
      <table data-testid="swarm-history">
        <caption>This tab’s windows (newest first)</caption>
        <HeadRow columns={['Window', 'Steps', 'Loss', 'Contribution', 'Up / down', 'Model hash']} />
        <tbody>
          {history.map((r) => (
            <tr key={r.window} data-window={r.window} data-hash={r.hash} data-included={r.included} data-contributed={r.contributed}>
              <td>{r.window}</td>
              <td>{r.steps}</td>
              <td>{r.trainLoss?.toFixed(3) ?? '–'}</td>
              <td data-testid="swarm-verdict">{r.included ? 'accepted' : r.contributed ? refusalWords(codes.get(r.window)) : 'none (too late)'}</td>
              <td>
                {(r.bytesUp / 1024).toFixed(1)} / {(r.bytesDown / 1024).toFixed(1)} KiB
              </td>
              <td>
                <code title={r.hash}>{r.hash.slice(0, 12)}…</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableScroll>
  );
}

/** What the tab did by itself after a failure or a sleep, and whether it is done. */
function RecoveryNote({ recovery: r, status, phase }: { recovery: Recovery; status: SwarmView['status']; phase?: SwarmPhase }): ReactNode {
  const done = r.action === 'rejoining' ? status === 'joined' : phase === 'training' || phase === 'waiting' || phase === 'uploading';
  const doing =
    r.action === 'rejoining'
      ? done
        ? 'the tab rejoined the swarm by itself (a fresh worker and GPU device) and fetched its model.'
        : `rejoining by itself in a moment (attempt ${r.attempt ?? 1} of ${r.of ?? 1}).`
      : done
        ? 'the tab fetched the swarm’s current model again and trains on.'
        : 'fetching the swarm’s current model again.';
  return (
    <p className="note" role="status" data-testid="swarm-recovery" data-action={r.action} data-done={done ? 'true' : 'false'}>
      At {new Date(r.at).toLocaleTimeString()}: {r.what.replace(/\.$/, '')}; {doing}
    </p>
  );
}

export function SwarmPanel(): ReactNode {
  const power = usePower();
  const s = useSwarm(power.effort);
  const wakeLock = useWakeLock(power.settings.keepAwake && s.status === 'joined' && !power.effort.paused);
  const now = useNow(s.status === 'joined');
  if (s.status === 'checking') return null;
  if (s.status === 'none') {
    return (
      <section className="card" aria-labelledby="swarm-title" data-testid="swarm-panel" data-status="none">
        <h2 id="swarm-title">Join the swarm</h2>
        <p className="note">This server hosts no swarm run. `npm start` runs a local one (a validator and two headless peers) that this page can join.</p>
      </section>
    );
  }
  const run = s.run;
  return (
    <section
      className="card"
      aria-labelledby="swarm-title"
      data-testid="swarm-panel"
      data-status={s.status}
      data-phase={s.phase ?? ''}
      data-window={s.window ?? ''}
    >
      <h2 id="swarm-title">Join the swarm</h2>
      {run && (
        <p className="note">
          Run <code>{run.runId}</code>: {run.preset} model, windows of {run.windowMs / 1000} s, updates compressed with SparseLoCo.
        </p>
      )}
      <div className="controls">
        {s.status === 'joined' || (s.status === 'joining' && s.recovery?.action === 'rejoining') ? (
          <button type="button" onClick={s.leave} data-testid="swarm-leave">
            Leave
          </button>
        ) : (
          <button type="button" onClick={s.join} disabled={s.status === 'joining'} data-testid="swarm-join">
            {s.status === 'joining' ? 'Joining…' : 'Join the swarm'}
          </button>
        )}
        {s.name && (
          <span role="status">
            {s.name} · {s.neighbours} neighbour{s.neighbours === 1 ? '' : 's'}
          </span>
        )}
      </div>
      {run && s.status !== 'joined' && <FirstVisitNote run={run} share={power.effort.share} />}
      <PowerSettings power={power} wakeLock={wakeLock} />
      {s.address && (
        <p className="note" data-testid="swarm-identity" data-earning={s.earning ? 'yes' : 'no'}>
          Contributions are signed for <code className="address">{s.address}</code>
          {s.earning
            ? ' (your wallet: accepted work earns for it).'
            : ' (an anonymous session key: they train the model but earn nothing; connect a wallet on the Wallet page to earn).'}
        </p>
      )}
      {s.totals && (s.totals.windows > 0 || s.status === 'joined') && <BrowserRecord totals={s.totals} address={s.address} earning={s.earning} />}
      {s.recovery && <RecoveryNote recovery={s.recovery} status={s.status} phase={s.phase} />}
      {s.iceProblem && (
        <p className="note bad" role="alert" data-testid="swarm-ice-problem" data-kind={s.iceProblem.kind}>
          {s.iceProblem.message}
        </p>
      )}
      {s.error && (
        <div className="card card-warning" role="alert">
          <h3>The swarm stopped on an error</h3>
          <p>{s.error}</p>
          <p>Press Join to start again; the swarm keeps going without you meanwhile.</p>
        </div>
      )}
      {s.phase && s.phase !== 'stopped' && <PhaseRow phase={s.phase} window={s.window} span={s.phaseSpan} now={now} />}
      {s.sync && <SyncRow sync={s.sync} />}
      {s.history.length > 0 && <SwarmHistory history={s.history} address={s.address} />}
    </section>
  );
}
