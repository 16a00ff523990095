// Learning-rate schedule on the global step: linear warmup, then cosine decay to a floor.
// A function of the step alone, so every peer and a resumed run agree on it.

export interface CosineSchedule {
  maxLr: number;
  minLr: number;
  warmupSteps: number;
  /** Step at which the cosine reaches minLr; the rate stays there afterwards. */
  decaySteps: number;
}

export function learningRate(schedule: CosineSchedule, step: number): number {
  const { maxLr, minLr, warmupSteps, decaySteps } = schedule;
  if (step < warmupSteps) return (maxLr * (step + 1)) / warmupSteps;
  if (step >= decaySteps) return minLr;
  const progress = (step - warmupSteps) / Math.max(1, decaySteps - warmupSteps);
  return minLr + 0.5 * (maxLr - minLr) * (1 + Math.cos(Math.PI * progress));
}
