// Starts a validator in this tab through the shared assembly (src/swarm/assemble.ts): a WebGPU (or
// CPU reference) scoring probe in a worker, and no ledger (a tab keeps no database).
import { toHex } from '../protocol/bytes';
import { windowAt, type RunConfig } from '../protocol/runConfig';
import { checkValidatorKey, openValidator } from '../swarm/assemble';
import { WalletError } from '../wallet/errors';
import { signerFromSecret } from '../wallet/keySource';
import { tabPlatform } from './tabPlatform';
import type { ValidatorRoleView } from './validatorRoleView';

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** A tab shares its GPU with the page: it scores a sample of four per window, on fewer pages. */
const TAB_LIMITS = { maxScored: 4, ownSequences: 32, randomSequences: 64 };

export async function startValidator(
  run: RunConfig,
  signalUrl: string,
  secret: string,
  setView: (f: (v: ValidatorRoleView) => ValidatorRoleView) => void,
): Promise<() => void> {
  let signer;
  try {
    signer = signerFromSecret(secret);
  } catch (err) {
    throw new Error(err instanceof WalletError ? `the key file is not usable: ${err.message}` : message(err));
  }
  const publicKey = checkValidatorKey(run, signer);
  const platform = tabPlatform('tab-validator');
  // A validator starting after window 0 would need the current model first; a tab starts only at the beginning.
  if (windowAt(run, platform.clock.now()) > 0)
    throw new Error(
      'the run has already started: start a tab validator before its first window closes (or run `tessera validator`, which resumes from its ledger)',
    );
  const name = `validator-${publicKey.slice(0, 10)}`;
  const session = await openValidator(platform, run, {
    signalUrl,
    signer,
    name,
    scoring: 'gpu',
    limits: TAB_LIMITS,
    onDecision: (d) =>
      setView((v) => ({
        ...v,
        windows: [{ window: d.window, hash: toHex(d.manifest.nextHash), accepted: d.accepted.length, verdicts: d.verdicts }, ...v.windows].slice(0, 50),
      })),
  });
  session.link.mesh.on('relay-unavailable', (reason) => setView((v) => ({ ...v, error: `this validator cannot connect to anyone: ${reason}` })));
  setView((v) => ({ ...v, status: 'running', publicKey, scoring: `${session.probes.label}, in a worker` }));
  session.run().catch((err: unknown) => setView((v) => ({ ...v, status: 'error', error: message(err) })));
  return session.stop;
}
