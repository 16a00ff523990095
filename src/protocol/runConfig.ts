// A training run's fixed parameters and the window clock every participant shares: which
// window it is, when training for it must stop, and when its manifest is due.
import { checkConfig, PRESETS, type GptConfig, type ModelShape, type PresetName, type TokenizerKind } from '../model/config';
import type { CosineSchedule } from '../model/schedule';

export interface RunConfig {
  runId: string;
  preset: PresetName;
  /** A shape of the run's own instead of the preset's (layers, heads, width, context). */
  model?: ModelShape;
  /** How the corpus becomes ids; default `char` (the corpus's own characters). */
  tokenizer?: TokenizerKind;
  /** Seeds the initial model (θ_0 is the same everywhere) and the data pages. */
  seed: number;
  /** Window 0 starts here (ms since the epoch). */
  startTime: number;
  windowMs: number;
  /** Contributions arriving up to this long after a window ends still count. */
  graceMs: number;
  /** Peers stop training this long before the window ends, to upload in time. */
  uploadMarginMs: number;
  /** Fewer inner steps than this and a contribution is refused. */
  minSteps: number;
  /**
   * Inner steps per window at most (DiLoCo's H); more and a contribution is refused. A peer
   * that reaches it stops and uploads early. Without it peers train until the deadline.
   */
  maxSteps?: number;
  /**
   * Unit mode: peers train whole units of this many inner steps, each from θ_w on its own
   * pages, and send one receipt per unit; proof of work tests receipts the validator draws,
   * so its power does not fall with device speed (docs/VALIDATOR.md). Without it: chained.
   */
  unitSteps?: number;
  batchSize: number;
  seqLen: number;
  outerLr: number;
  innerSchedule: CosineSchedule;
  /** Validator public keys (hex), in failover order. */
  validatorKeys: string[];
  /** Text file under public/data the run trains on (default DEFAULT_CORPUS). */
  corpus?: string;
  /** STUN/TURN servers; TURN credentials are issued by the signaling server, never stored here. */
  ice?: IceSettings;
  /** The Bittensor subnet whose weights the validators set (their default for --netuid). */
  netuid?: number;
}

export interface IceSettings {
  stun: string[];
  turn: string[];
  /** Force every connection through TURN (iceTransportPolicy 'relay'): hides peers' addresses. */
  relayOnly: boolean;
}

export const DEFAULT_CORPUS = 'tinyshakespeare.txt';

export function windowStart(run: RunConfig, window: number): number {
  return run.startTime + window * run.windowMs;
}

export function windowEnd(run: RunConfig, window: number): number {
  return run.startTime + (window + 1) * run.windowMs;
}

/** The window whose training is under way at `now`. */
export function windowAt(run: RunConfig, now: number): number {
  return Math.max(0, Math.floor((now - run.startTime) / run.windowMs));
}

/** When a peer training window w must stop and upload. */
export function trainingDeadline(run: RunConfig, window: number): number {
  return windowEnd(run, window) - run.uploadMarginMs;
}

/** When the validator closes window w and publishes its manifest. */
export function manifestDue(run: RunConfig, window: number): number {
  return windowEnd(run, window) + run.graceMs;
}

/** The run's model: its own shape or its preset's, with the tokenizer's vocabulary; checked. */
export function runModelConfig(run: RunConfig, vocabSize: number): GptConfig {
  return checkConfig({ ...(run.model ?? PRESETS[run.preset]), vocabSize });
}
