// What the tab validator looks like to the page: shared by the hook (useValidatorRole.ts) and
// the code it loads on start (startValidator.ts).
import type { Verdict } from '../validator/gauntlet';

export interface ValidatedWindow {
  window: number;
  hash: string;
  accepted: number;
  verdicts: Verdict[];
}

export interface ValidatorRoleView {
  status: 'idle' | 'starting' | 'running' | 'error';
  publicKey?: string;
  scoring?: string;
  windows: ValidatedWindow[];
  error?: string;
}
