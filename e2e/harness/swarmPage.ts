// A tab as a swarm participant, driven by the e2e test: the page opens a peer through the shared
// assembly on the tab platform (signaling, mesh, rounds here; training in the swarm worker).
import { fromHex } from '../../src/protocol/bytes';
import { ed25519Signer } from '../../src/protocol/keys';
import type { RunConfig } from '../../src/protocol/runConfig';
import { openPeer } from '../../src/swarm/assemble';
import type { WindowReport } from '../../src/swarm/swarmPeer';
import { tabPlatform } from '../../src/ui/tabPlatform';
import { sessionIdentity } from '../../src/wallet/authority';

interface SwarmHarness {
  reports: WindowReport[];
  logs: string[];
  error?: string;
  synced: boolean;
}

const state: SwarmHarness = { reports: [], logs: [], synced: false };
(window as unknown as { __swarm: SwarmHarness }).__swarm = state;

async function main(): Promise<void> {
  const q = new URLSearchParams(location.search);
  const run = JSON.parse(atob(q.get('run') ?? '')) as RunConfig;
  const name = q.get('name') ?? 'tab';
  const log = (l: string): void => void state.logs.push(l);
  // Signed, as the Volunteer page joins: the server refuses unsigned joins.
  const identity = sessionIdentity(ed25519Signer(fromHex(q.get('seed') ?? '')));
  const session = await openPeer(tabPlatform(name, log), run, {
    signalUrl: q.get('signal') ?? '',
    identity,
    name,
    onWindow: (r) => void state.reports.push(r),
  });
  log(`ready on ${session.trainer.device}`);
  const syncWatch = setInterval(() => (state.synced = session.peer.isSynced), 200);
  await session.run();
  clearInterval(syncWatch);
}

main().catch((err: unknown) => (state.error = err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err)));
