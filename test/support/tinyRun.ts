// A run of the tiny model for swarm tests: the fields they all share (2 × 32 tokens a step,
// at least 2 steps, outer lr 1, a short warm-up) beside the ones each test sets itself.
import type { RunConfig } from '../../src/protocol/runConfig';

type Own = Pick<RunConfig, 'runId' | 'seed' | 'startTime' | 'windowMs' | 'graceMs' | 'uploadMarginMs' | 'validatorKeys'>;

export function tinyRun(own: Own & Partial<RunConfig>): RunConfig {
  return {
    preset: 'tiny',
    minSteps: 2,
    batchSize: 2,
    seqLen: 32,
    outerLr: 1,
    innerSchedule: { maxLr: 3e-3, minLr: 3e-4, warmupSteps: 5, decaySteps: 300 },
    ...own,
  };
}
