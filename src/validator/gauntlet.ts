// One window through the gauntlet: every contribution is checked (authority, run, window,
// base, steps, lateness, decoding, duplicates, norm, copying), then scored by the loss it
// removes; only useful, proven work enters the outer step. Every verdict carries its reason.
import type { ChunkPlan } from '../compress/chunks';
import { median, updateNorm } from '../compress/outerStep';
import { CodecError, decodeSparseLoCo, type SparseUpdate } from '../compress/sparseloco';
import { decodeWorkPayload } from '../compress/workPayload';
import { equalBytes, ByteWriter, toHex } from '../protocol/bytes';
import { contentHash, modelHash } from '../protocol/hash';
import type { Signer } from '../protocol/keys';
import { assignedPages, pagesTrained, randomPages, unitPages } from '../train/dataPages';
import { verifyContributionAuthority } from '../wallet/authority';
import { WalletError } from '../wallet/errors';
import { buildManifest, type Candidate, type WindowDecision } from './manifest';
import {
  MIN_POW_SEQUENCES,
  POW_T_THRESHOLD,
  provesWork,
  randomImprovement,
  receiptAgreement,
  receiptSum,
  scoreUpdate,
  unitEvidence,
  type LossProbe,
  type Score,
} from './scoring';

export interface Arrival extends Candidate {
  /** When this validator first held the complete contribution (ms). */
  arrivedAt: number;
}

export type VerdictCode =
  | 'accepted'
  | 'accepted-unscored'
  | 'wrong-run'
  | 'wrong-window'
  | 'unauthorized'
  | 'stale-base'
  | 'too-few-steps'
  | 'too-many-steps'
  | 'wrong-units'
  | 'late'
  | 'duplicate-payload'
  | 'undecodable'
  | 'same-key'
  | 'same-address'
  | 'norm-outlier'
  | 'copy'
  | 'no-improvement'
  | 'inconsistent-update'
  | 'no-proof-of-work';

export interface Verdict {
  id: string;
  address: string;
  /** Signing key, hex. */
  key: string;
  payloadBytes: number;
  /** Tokens the header claims, and the training loss it reports (0: none); shown, not trusted. */
  tokens: number;
  /** Inner steps the header claims: the work credited when its proof holds. */
  steps: number;
  trainLoss: number;
  arrivedAt: number;
  accepted: boolean;
  code: VerdictCode;
  reason: string;
  /** Its address is a wallet's, through a valid certificate: it can earn weights. */
  earns: boolean;
  norm?: number;
  score?: Score;
}

export interface GauntletLimits {
  /** Candidates scored per window at most (a deterministic, unpredictable sample beyond it). */
  maxScored: number;
  /** Own-page sequences evaluated per candidate (its first pages). */
  ownSequences: number;
  randomSequences: number;
  /** Share of top-k indices two contributions may have in common before the later is a copy. */
  copyOverlap: number;
  /** An update more than this many times the window's median norm is refused. */
  normOutlier: number;
  /** Unit mode: receipts tested per scored contribution (an unpredictable sample of its units). */
  unitsTested: number;
}

export { MIN_POW_SEQUENCES } from './scoring';

export const DEFAULT_LIMITS: GauntletLimits = { maxScored: 16, ownSequences: 64, randomSequences: 160, copyOverlap: 0.9, normOutlier: 10, unitsTested: 16 };

export interface GauntletOptions {
  runId: string;
  window: number;
  /** When the window began (certificates must be valid then). */
  windowStartMs: number;
  /** Contributions complete after this are late. */
  closeAt: number;
  minSteps: number;
  /** The run's cap on inner steps: a claim beyond it is a lie about the work done. */
  maxSteps?: number;
  outerLr: number;
  /**
   * Unit mode: contributions are whole units of this many steps, each with its receipt, and
   * proof of work tests a sample of the receipts (decoded with `plan`, as the update is).
   */
  unitSteps?: number;
  /** Sequences per inner step (batch size × microbatches): how many of its pages a step used. */
  sequencesPerStep: number;
  seqLen: number;
  corpusLength: number;
  theta: Float32Array;
  plan: ChunkPlan;
  arrivals: readonly Arrival[];
  signer: Signer;
  /** Without one the validator only checks: whatever passes is accepted unscored. */
  probe?: LossProbe;
  /**
   * Whether an address has proven work recently (its standing). One window's proof-of-work
   * statistic is noisy once error feedback mixes older windows into an update, so a proven
   * peer with a weak window is still admitted on its improvement; a newcomer must prove it.
   */
  proven?: (address: string) => boolean;
  limits?: Partial<GauntletLimits>;
}

export interface GauntletResult extends WindowDecision {
  verdicts: Verdict[];
}

type Live = Arrival & { verdict: Verdict; update?: SparseUpdate; receipts?: Uint8Array[]; receiptSum?: Map<number, number> };

/** The checks that need no decoding; notes whether the address can earn. */
function firstCheck(a: Live, o: GauntletOptions, base: Uint8Array): [VerdictCode, string] | undefined {
  const h = a.header;
  if (h.runId !== o.runId) return ['wrong-run', `for run ${h.runId}`];
  if (h.window !== o.window) return ['wrong-window', `for window ${h.window}, this is window ${o.window} (a replay or a straggler)`];
  try {
    a.verdict.earns = verifyContributionAuthority(h, o.windowStartMs).rewardAddress !== null;
  } catch (err) {
    if (!(err instanceof WalletError)) throw err;
    return ['unauthorized', `${err.code}: ${err.message}`];
  }
  if (!equalBytes(h.baseHash, base)) return ['stale-base', 'trained on another base model (out of sync)'];
  if (h.steps < o.minSteps) return ['too-few-steps', `${h.steps} inner steps, the run requires ${o.minSteps}`];
  if (o.maxSteps !== undefined && h.steps > o.maxSteps) return ['too-many-steps', `claims ${h.steps} inner steps, the run allows ${o.maxSteps}`];
  if (o.unitSteps && h.steps % o.unitSteps !== 0) return ['wrong-units', `${h.steps} inner steps are not whole ${o.unitSteps}-step units`];
  if (a.arrivedAt > o.closeAt) return ['late', `complete ${((a.arrivedAt - o.closeAt) / 1000).toFixed(1)} s after the window closed`];
  return undefined;
}

/** Two units whose receipts are byte-identical, if any: no two real units' deltas are. */
function firstTwin(receipts: readonly Uint8Array[]): [number, number] | undefined {
  const seen = new Map<string, number>();
  for (const [u, r] of receipts.entries()) {
    const h = toHex(contentHash(r));
    const first = seen.get(h);
    if (first !== undefined) return [first, u];
    seen.set(h, u);
  }
  return undefined;
}

/** |A ∩ B| / min(|A|, |B|) for sorted index lists. */
export function indexOverlap(a: Uint32Array, b: Uint32Array): number {
  let i = 0;
  let j = 0;
  let both = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      both++;
      i++;
      j++;
    } else if (a[i] < b[j]) i++;
    else j++;
  }
  return Math.min(a.length, b.length) ? both / Math.min(a.length, b.length) : 0;
}

function sorted(u: SparseUpdate): Uint32Array {
  return u.indices.slice().sort();
}

export async function runGauntlet(o: GauntletOptions): Promise<GauntletResult> {
  const limits = { ...DEFAULT_LIMITS, ...o.limits };
  const base = modelHash(o.theta);
  // Earlier arrivals first: of two copies, the later announcer is the copier.
  const order = [...o.arrivals].sort((a, b) => a.arrivedAt - b.arrivedAt || (toHex(a.header.id) < toHex(b.header.id) ? -1 : 1));
  const live: Live[] = order.map((a) => ({
    ...a,
    verdict: {
      id: toHex(a.header.id),
      address: a.header.peerAddress,
      key: toHex(a.header.publicKey),
      payloadBytes: a.header.payloadBytes,
      tokens: a.header.tokens,
      steps: a.header.steps,
      trainLoss: a.header.trainLoss,
      arrivedAt: a.arrivedAt,
      accepted: false,
      code: 'accepted',
      reason: '',
      earns: false,
    },
  }));
  const reject = (l: Live, code: VerdictCode, reason: string): void => void Object.assign(l.verdict, { accepted: false, code, reason });
  const standing = (): Live[] => live.filter((l) => l.verdict.code === 'accepted');

  const payloads = new Map<string, Live>();
  const keys = new Set<string>();
  const addresses = new Set<string>();
  for (const l of live) {
    const failed = firstCheck(l, o, base);
    if (failed) {
      reject(l, ...failed);
      continue;
    }
    const first = payloads.get(toHex(l.header.payloadHash));
    if (first) {
      reject(l, 'duplicate-payload', `the same payload bytes as ${first.verdict.address}'s earlier contribution`);
      continue;
    }
    payloads.set(toHex(l.header.payloadHash), l);
    try {
      if (o.unitSteps) {
        const work = decodeWorkPayload(l.payload, o.plan);
        if (work.receipts.length !== l.header.steps / o.unitSteps) {
          reject(l, 'wrong-units', `${work.receipts.length} receipts for the ${l.header.steps / o.unitSteps} units its ${l.header.steps} steps claim`);
          continue;
        }
        const twin = firstTwin(work.receipts);
        if (twin) {
          reject(l, 'wrong-units', `the receipts of units ${twin[0]} and ${twin[1]} are the same bytes (one unit's receipt sent twice)`);
          continue;
        }
        l.update = work.main;
        l.receipts = work.receipts;
      } else l.update = decodeSparseLoCo(l.payload, o.plan);
    } catch (err) {
      if (!(err instanceof CodecError)) throw err;
      reject(l, 'undecodable', err.message);
      continue;
    }
    l.verdict.norm = updateNorm(l.update);
    if (keys.has(l.verdict.key)) reject(l, 'same-key', 'a second contribution from the same key in one window');
    else if (addresses.has(l.verdict.address)) reject(l, 'same-address', 'a second contribution for the same address in one window');
    keys.add(l.verdict.key);
    addresses.add(l.verdict.address);
  }

  const normMedian = median(standing().map((l) => l.verdict.norm as number));
  for (const l of standing()) {
    if ((l.verdict.norm as number) > limits.normOutlier * normMedian)
      reject(
        l,
        'norm-outlier',
        `update norm ${(l.verdict.norm as number).toExponential(2)} is over ${limits.normOutlier}× the window's median ${normMedian.toExponential(2)}`,
      );
  }
  const indexSets = new Map(standing().map((l) => [l, sorted(l.update as SparseUpdate)]));
  const kept: Live[] = [];
  for (const l of standing()) {
    const copied = kept.find((k) => indexOverlap(indexSets.get(k) as Uint32Array, indexSets.get(l) as Uint32Array) > limits.copyOverlap);
    if (copied)
      reject(
        l,
        'copy',
        `${(indexOverlap(indexSets.get(copied) as Uint32Array, indexSets.get(l) as Uint32Array) * 100).toFixed(0)}% of its top-k indices are ${copied.verdict.address}'s, announced earlier`,
      );
    else kept.push(l);
  }

  if (o.probe) await scoreStanding(o, limits, o.probe, standing());
  else
    for (const l of standing())
      Object.assign(l.verdict, { accepted: true, code: 'accepted-unscored', reason: 'passed every check (this validator does not score)' });

  const accepted = live.filter((l) => l.verdict.accepted).map((l) => ({ header: l.header, payload: l.payload, update: l.update as SparseUpdate }));
  const built = buildManifest({ runId: o.runId, window: o.window, theta: o.theta, accepted, outerLr: o.outerLr, signer: o.signer });
  const verdicts = live.map((l) => l.verdict);
  return {
    ...built,
    verdicts,
    rejected: verdicts.filter((v) => !v.accepted).map((v) => ({ id: v.id, peerAddress: v.address, reason: `${v.code}: ${v.reason}` })),
  };
}

/** A secret only this validator can compute, so nobody can train on the pages it will test. */
function validatorSeed(o: GauntletOptions): string {
  return toHex(contentHash(o.signer.sign(new ByteWriter().string('tessera/gauntlet/v1').string(o.runId).u32(o.window).finish())));
}

async function scoreStanding(o: GauntletOptions, limits: GauntletLimits, probe: LossProbe, candidates: Live[]): Promise<void> {
  const seed = validatorSeed(o);
  const rank = (l: Live): string => toHex(contentHash(new ByteWriter().string(seed).fixed(l.header.id, 32).finish()));
  const sample = new Set([...candidates].sort((a, b) => (rank(a) < rank(b) ? -1 : 1)).slice(0, limits.maxScored));
  const clipNorm = median(candidates.map((l) => l.verdict.norm as number));
  const random = await randomPages(`${seed}/random`, { count: limits.randomSequences, seqLen: o.seqLen, corpusLength: o.corpusLength });
  const randomBefore = await probe.perSequence(o.theta, random);
  const scored: Live[] = [];
  for (const l of candidates) {
    if (!sample.has(l)) {
      Object.assign(l.verdict, { accepted: true, code: 'accepted-unscored', reason: `passed every check; not in this window's sample of ${limits.maxScored}` });
      continue;
    }
    const score = l.receipts
      ? await scoreUnits(o, limits, probe, l, { seed, clipNorm, random, randomBefore })
      : await scoreWindow(o, limits, probe, l, { clipNorm, random, randomBefore });
    if (!score) continue;
    l.verdict.score = score;
    scored.push(l);
  }
  for (const l of scored) judgeScored(o, l, inconsistency(l, scored));
}

/** Below this cosine with its own receipts an update is not theirs (honest: 0.54 to 0.60). */
export const MIN_RECEIPT_AGREEMENT = 0.15;

/**
 * Unit mode: why an update is not the one its receipts describe, if it is not. Too far from
 * them (unrelated or poisoned), or closer to another contribution's receipts than its own (a
 * borrowed update: every honest update shares the direction early training takes, so the
 * floor alone would let one through at 0.30).
 */
function inconsistency(l: Live, scored: readonly Live[]): string | undefined {
  const own = l.verdict.score?.agreement;
  if (own === undefined || !l.update) return undefined;
  if (own < MIN_RECEIPT_AGREEMENT) return `its update has cosine ${own.toFixed(2)} < ${MIN_RECEIPT_AGREEMENT} with its own receipts`;
  for (const d of scored) {
    if (d === l || !d.receiptSum) continue;
    const other = receiptAgreement(l.update, d.receiptSum);
    if (other > own) return `its update agrees more with ${d.verdict.address}'s receipts (cosine ${other.toFixed(2)}) than with its own (${own.toFixed(2)})`;
  }
  return undefined;
}

function judgeScored(o: GauntletOptions, l: Live, inconsistent: string | undefined): void {
  const score = l.verdict.score as Score;
  const count = score.ownSequences;
  const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;
  if (inconsistent) Object.assign(l.verdict, { accepted: false, code: 'inconsistent-update', reason: inconsistent });
  else if (!(score.random > 0))
    Object.assign(l.verdict, { accepted: false, code: 'no-improvement', reason: `loss on random pages changed by ${pct(-score.random)}` });
  else if (count < MIN_POW_SEQUENCES)
    Object.assign(l.verdict, {
      accepted: true,
      code: 'accepted',
      reason: `random pages improved ${pct(score.random)}; ${count} own pages are too few to prove work, so none is credited`,
    });
  else if (!provesWork(score) && !o.proven?.(l.header.peerAddress))
    Object.assign(l.verdict, {
      accepted: false,
      code: 'no-proof-of-work',
      reason: `its own pages improved ${pct(score.own)}${under(score)}, random pages ${pct(score.random)} (${evidenceText(score)}) and it has no recent proof`,
    });
  else if (!provesWork(score))
    Object.assign(l.verdict, {
      accepted: true,
      code: 'accepted',
      reason: `random pages improved ${pct(score.random)}; proof of work weak this window (${evidenceText(score)}), admitted on its recent record`,
    });
  else
    Object.assign(l.verdict, {
      accepted: true,
      code: 'accepted',
      reason: `random pages improved ${pct(score.random)}, own pages ${pct(score.own)}${under(score)} (${evidenceText(score)})`,
    });
}

/** Unit mode measures own pages under the receipts, random pages under the update itself. */
function under(s: Score): string {
  return s.unitsTested === undefined ? '' : ' under its receipts';
}

/** t, and in unit mode how many tested units showed a trace: what the verdict rests on. */
function evidenceText(s: Score): string {
  const t = `t = ${s.powT.toFixed(2)}${s.powT >= POW_T_THRESHOLD ? '' : ` < ${POW_T_THRESHOLD}`}`;
  return s.unitsTested === undefined ? t : `${t}; ${s.unitsWithTrace}/${s.unitsTested} tested of ${s.units} units show a trace`;
}

interface Shared {
  clipNorm: number;
  random: Uint32Array;
  randomBefore: Float64Array;
}

/** Chained mode: the update itself on the first pages the peer was assigned. */
async function scoreWindow(o: GauntletOptions, limits: GauntletLimits, probe: LossProbe, l: Live, s: Shared): Promise<Score> {
  const count = Math.min(limits.ownSequences, pagesTrained(l.header.steps, o.sequencesPerStep));
  const own = await assignedPages({
    runSeed: o.runId,
    peerAddress: l.header.peerAddress,
    window: o.window,
    count,
    seqLen: o.seqLen,
    corpusLength: o.corpusLength,
  });
  return scoreUpdate(probe, {
    theta: o.theta,
    update: l.update as SparseUpdate,
    clipNorm: s.clipNorm,
    outerLr: o.outerLr,
    ownPages: own,
    randomPages: s.random,
    randomBefore: s.randomBefore,
  });
}

/**
 * Unit mode: the update's value on random pages, and proof of work from the receipts of units
 * drawn with the validator's secret seed (a peer cannot know which it must have trained).
 * An undecodable receipt refuses the contribution (undefined).
 */
async function scoreUnits(o: GauntletOptions, limits: GauntletLimits, probe: LossProbe, l: Live, s: Shared & { seed: string }): Promise<Score | undefined> {
  const receipts = l.receipts as Uint8Array[];
  const unitSteps = o.unitSteps as number;
  const draw = (u: number): string => toHex(contentHash(new ByteWriter().string(s.seed).fixed(l.header.id, 32).u32(u).finish()));
  const tested = [...receipts.keys()]
    .sort((a, b) => (draw(a) < draw(b) ? -1 : 1))
    .slice(0, limits.unitsTested)
    .sort((a, b) => a - b);
  // Every receipt is decoded (cheap beside a loss probe): the update must agree with all of them.
  const decoded: SparseUpdate[] = [];
  for (const [u, bytes] of receipts.entries()) {
    try {
      decoded.push(decodeSparseLoCo(bytes, o.plan));
    } catch (err) {
      if (!(err instanceof CodecError)) throw err;
      Object.assign(l.verdict, { accepted: false, code: 'undecodable', reason: `receipt of unit ${u}: ${err.message}` });
      return undefined;
    }
  }
  const units: { receipt: SparseUpdate; pages: Uint32Array }[] = [];
  for (const u of tested) {
    const pages = await unitPages({
      runSeed: o.runId,
      peerAddress: l.header.peerAddress,
      window: o.window,
      unit: u,
      count: pagesTrained(unitSteps, o.sequencesPerStep),
      seqLen: o.seqLen,
      corpusLength: o.corpusLength,
    });
    units.push({ receipt: decoded[u], pages });
  }
  const evidence = await unitEvidence(probe, { theta: o.theta, units, randomPages: s.random, randomBefore: s.randomBefore });
  const random = await randomImprovement(probe, {
    theta: o.theta,
    update: l.update as SparseUpdate,
    clipNorm: s.clipNorm,
    outerLr: o.outerLr,
    randomPages: s.random,
    randomBefore: s.randomBefore,
  });
  l.receiptSum = receiptSum(decoded);
  const agreement = receiptAgreement(l.update as SparseUpdate, l.receiptSum);
  return { random, ...evidence, units: receipts.length, unitsTested: tested.length, agreement };
}
