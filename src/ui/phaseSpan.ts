// What the Volunteer page's phase bar measures, per phase of a window: training runs from the
// window's start to its training deadline; uploading and waiting run from that deadline to
// when the validator's manifest is due (window end + grace). Syncing has its own download row.
// Loaded with joinSwarm.ts (it needs the run's clock), never with the page itself.
import { manifestDue, trainingDeadline, windowStart, type RunConfig } from '../protocol/runConfig';
import type { SwarmPhase } from '../swarm/swarmPeer';

export interface PhaseSpan {
  /** Epoch ms where the bar is empty… */
  from: number;
  /** …and where it is full. */
  until: number;
}

export function phaseSpan(run: RunConfig, phase: SwarmPhase, window: number): PhaseSpan | undefined {
  switch (phase) {
    case 'training':
      return { from: windowStart(run, window), until: trainingDeadline(run, window) };
    case 'uploading':
    case 'waiting':
      return { from: trainingDeadline(run, window), until: manifestDue(run, window) };
    default:
      return undefined;
  }
}
