// Joins the swarm from this tab: a SwarmPeer on the page (signaling, WebRTC mesh, rounds) with
// training in a swarm worker; loaded only when the visitor presses Join.
import { describeIceError } from '../p2p/iceProblem';
import { toHex } from '../protocol/bytes';
import type { RunConfig } from '../protocol/runConfig';
import { openPeer } from '../swarm/assemble';
import { AwayWatch, describeAway } from './awayWatch';
import { addWindow } from './browserTotals';
import { phaseSpan } from './phaseSpan';
import type { Joined, SwarmView } from './swarmView';
import { tabPlatform } from './tabPlatform';
import { recordWindow, swarmIdentity } from './useWallet';

export async function startPeer(run: RunConfig, signalUrl: string, setView: (f: (v: SwarmView) => SwarmView) => void): Promise<Joined> {
  // This browser's session key, with the wallet's certificate when one was signed for this run.
  const identity = await swarmIdentity(run);
  const name = `tab-${toHex(identity.signer.publicKey).slice(0, 10)}`;
  const platform = tabPlatform(name);
  const away = new AwayWatch();
  const session = await openPeer(platform, run, {
    signalUrl,
    identity,
    name,
    onPhase: (phase, window) =>
      setView((v) => ({
        ...v,
        phase,
        window,
        phaseSpan: phaseSpan(run, phase, window),
        sync: v.sync && phase === 'training' && v.sync.window === window ? { ...v.sync, verified: true } : v.sync,
      })),
    // The peer goes on to sync at once: the phase says so from the same update, so the note never
    // reads as done early. A recent standstill is the likelier cause than the symptom the peer saw
    // (which can surface two windows after waking: a payload wait gives up after two).
    onResync: (symptom) => {
      const what = [describeAway(away.awayWithin(4 * run.windowMs)), symptom].filter(Boolean).join(': ');
      setView((v) => ({ ...v, phase: 'syncing', phaseSpan: undefined, recovery: { what, at: Date.now(), action: 'resyncing' } }));
    },
    onSync: (received, total, window) => setView((v) => ({ ...v, sync: { received, total, window, verified: false } })),
    onWindow: (r) => {
      if (r.contributed) recordWindow(identity.address, r.included);
      const totals = addWindow(run.runId, r);
      setView((v) => ({ ...v, sync: undefined, totals, history: [r, ...v.history].slice(0, 50) }));
    },
  }).catch((err: unknown) => {
    away.stop();
    throw err;
  });
  const { mesh, signaling } = session.link;
  mesh.on('ice-error', (_peer, e) => {
    const problem = describeIceError(e, signaling.ice, platform.clock.now());
    setView((v) => (v.iceProblem?.message === problem.message ? v : { ...v, iceProblem: problem }));
  });
  // No TURN credential for a relay-only run: the tab dials nobody, and says why where ICE failures show.
  mesh.on('relay-unavailable', (reason) =>
    setView((v) => ({ ...v, iceProblem: { kind: 'unreachable', message: `This tab cannot connect to anyone: ${reason}` } })),
  );
  const poll = setInterval(() => setView((v) => (v.neighbours === mesh.neighbours().length ? v : { ...v, neighbours: mesh.neighbours().length })), 1000);
  const stop = (): void => {
    clearInterval(poll);
    away.stop();
    session.stop();
  };
  setView((v) => ({ ...v, status: 'joined', name, address: identity.address, earning: identity.certificate.length > 0 }));
  // Whoever holds the result reports the error; a failed peer has released everything already.
  // A trainer that dies between windows (a lost device while syncing or waiting) ends it at once.
  const died = new Promise<never>((_, reject) => session.trainer.trainer.onDeath?.(reject));
  const running = Promise.race([session.run(), died]).finally(() => [clearInterval(poll), away.stop()]);
  return { stop, running, setEffort: (effort) => session.trainer.trainer.setEffort?.(effort) };
}
