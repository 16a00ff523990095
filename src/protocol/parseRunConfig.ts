// Checks a run configuration (a run file, or /api/run in a tab) field by field: a malformed
// one is refused with the field and the reason, never half-used. No Node APIs: tabs run it too.
import { PRESETS, TOKENIZER_KINDS, type ModelShape, type PresetName, type TokenizerKind } from '../model/config';
import type { CosineSchedule } from '../model/schedule';
import type { IceSettings, RunConfig } from './runConfig';

/** A corpus is a plain file name under public/data (the app serves it, Node peers read it). */
const CORPUS = /^[a-z0-9][a-z0-9._-]{0,59}\.txt$/;
/** stun:, turn: or turns: with a host; no spaces or quotes (they end up in RTCConfiguration). */
const ICE_URL = /^(stun|turn|turns):[A-Za-z0-9.\-:[\]]{1,200}(\?transport=(udp|tcp))?$/;
const MAX_ICE_URLS = 8;
/** Inner steps a peer may take in one window at most (bounds its data-page request). */
export const MAX_INNER_STEPS = 500;

export class RunConfigError extends Error {
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(`run configuration: ${field} ${reason}`);
    this.name = 'RunConfigError';
  }
}

type Json = Record<string, unknown>;

const isJsonObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A value as the operator would recognise it: JSON.stringify writes Infinity and NaN as null. */
function shown(v: unknown): string {
  return typeof v === 'number' ? String(v) : (JSON.stringify(v)?.slice(0, 80) ?? String(v));
}

/** `o[field]`, a number in [lo, hi]; errors name it by `path` (innerSchedule.maxLr, not maxLr). */
function num(o: Json, field: string, lo: number, hi: number, integer = false, path = field): number {
  const v = o[field];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi || (integer && !Number.isInteger(v)))
    throw new RunConfigError(path, `must be ${integer ? 'an integer' : 'a number'} in [${lo}, ${hi}], got ${shown(v)}`);
  return v;
}

/** Refuses fields outside `known` (typos would otherwise be silently ignored). */
function onlyKnown(o: Json, known: readonly string[], prefix: string, what: string): void {
  for (const k of Object.keys(o)) if (!known.includes(k)) throw new RunConfigError(`${prefix}${k}`, `is not ${what}`);
}

/** Checks every field of a parsed run file; unknown fields are refused too (typos). */
export function parseRunConfig(value: unknown): RunConfig {
  if (!isJsonObject(value)) throw new RunConfigError('(root)', 'must be a JSON object');
  const o = value;
  const known = [
    'runId',
    'preset',
    'seed',
    'startTime',
    'windowMs',
    'graceMs',
    'uploadMarginMs',
    'minSteps',
    'maxSteps',
    'unitSteps',
    'batchSize',
    'seqLen',
    'outerLr',
    'innerSchedule',
    'validatorKeys',
    'corpus',
    'ice',
    'netuid',
    'tokenizer',
    'model',
  ];
  onlyKnown(o, known, '', 'a run configuration field');
  if (typeof o.runId !== 'string' || !/^[A-Za-z0-9._:-]{1,64}$/.test(o.runId))
    throw new RunConfigError('runId', 'must be 1-64 characters of A-Z a-z 0-9 . _ : -');
  // Own keys only: `in` would also accept inherited names such as "constructor" or "__proto__".
  if (typeof o.preset !== 'string' || !Object.hasOwn(PRESETS, o.preset))
    throw new RunConfigError('preset', `must be one of ${Object.keys(PRESETS).join(', ')}`);
  const preset = o.preset as PresetName;
  if (!Array.isArray(o.validatorKeys) || o.validatorKeys.length === 0 || !o.validatorKeys.every((k) => typeof k === 'string' && /^[0-9a-f]{64}$/.test(k)))
    throw new RunConfigError('validatorKeys', 'must be a non-empty list of 64-hex-digit public keys');
  const windowMs = num(o, 'windowMs', 1000, 3_600_000, true);
  const model = o.model === undefined ? undefined : parseModel(o.model);
  const config: RunConfig = {
    runId: o.runId,
    preset,
    seed: num(o, 'seed', 0, 2 ** 32 - 1, true),
    startTime: num(o, 'startTime', 0, 8.64e15, true),
    windowMs,
    graceMs: num(o, 'graceMs', 0, windowMs, true),
    uploadMarginMs: num(o, 'uploadMarginMs', 0, windowMs, true),
    minSteps: num(o, 'minSteps', 1, 10_000, true),
    batchSize: num(o, 'batchSize', 1, 1024, true),
    seqLen: num(o, 'seqLen', 1, (model ?? PRESETS[preset]).contextLength, true),
    outerLr: num(o, 'outerLr', Number.MIN_VALUE, 10),
    innerSchedule: parseSchedule(o.innerSchedule),
    validatorKeys: o.validatorKeys as string[],
  };
  if (o.corpus !== undefined) {
    if (typeof o.corpus !== 'string' || !CORPUS.test(o.corpus))
      throw new RunConfigError('corpus', `must name a text file of the app's data folder (${CORPUS.source}), got ${shown(o.corpus)}`);
    config.corpus = o.corpus;
  }
  if (model) config.model = model;
  if (o.tokenizer !== undefined) {
    if (typeof o.tokenizer !== 'string' || !(TOKENIZER_KINDS as readonly string[]).includes(o.tokenizer))
      throw new RunConfigError('tokenizer', `must be one of ${TOKENIZER_KINDS.join(', ')}, got ${shown(o.tokenizer)}`);
    config.tokenizer = o.tokenizer as TokenizerKind;
  }
  if (o.ice !== undefined) config.ice = parseIce(o.ice);
  if (o.netuid !== undefined) config.netuid = num(o, 'netuid', 0, 65535, true);
  if (o.maxSteps !== undefined) {
    config.maxSteps = num(o, 'maxSteps', 1, MAX_INNER_STEPS, true);
    if (config.maxSteps < config.minSteps) throw new RunConfigError('maxSteps', `must be at least minSteps (${config.minSteps}), got ${config.maxSteps}`);
  }
  if (o.unitSteps !== undefined) {
    // Each unit trains its batches twice (PASSES_PER_BATCH), so a unit is a whole number of batches.
    config.unitSteps = num(o, 'unitSteps', 2, MAX_INNER_STEPS, true);
    if (config.unitSteps % 2 !== 0) throw new RunConfigError('unitSteps', `must be even (each batch is trained twice), got ${config.unitSteps}`);
    if (config.maxSteps !== undefined && config.maxSteps < config.unitSteps)
      throw new RunConfigError('unitSteps', `must not exceed maxSteps (${config.maxSteps}), got ${config.unitSteps}`);
  }
  if (config.graceMs + config.uploadMarginMs >= windowMs)
    throw new RunConfigError('graceMs', `plus uploadMarginMs must leave training time in a ${windowMs} ms window`);
  return config;
}

/** A model shape of the run's own (it replaces the preset's): sizes the kernels can run, heads dividing the width. */
function parseModel(value: unknown): ModelShape {
  const fields = ['layers', 'heads', 'embedDim', 'contextLength'] as const;
  if (!isJsonObject(value)) throw new RunConfigError('model', `must be an object {${fields.join(', ')}}`);
  onlyKnown(value, fields, 'model.', `a model setting (${fields.join(', ')})`);
  const shape: ModelShape = {
    layers: num(value, 'layers', 1, 48, true, 'model.layers'),
    heads: num(value, 'heads', 1, 64, true, 'model.heads'),
    embedDim: num(value, 'embedDim', 4, 4096, true, 'model.embedDim'),
    contextLength: num(value, 'contextLength', 1, 4096, true, 'model.contextLength'),
  };
  if (shape.embedDim % 4 !== 0) throw new RunConfigError('model.embedDim', `must be a multiple of 4, got ${shape.embedDim}`);
  if (shape.embedDim % shape.heads !== 0) throw new RunConfigError('model.heads', `must divide model.embedDim (${shape.embedDim}), got ${shape.heads}`);
  return shape;
}

function parseSchedule(value: unknown): CosineSchedule {
  const fields = ['maxLr', 'minLr', 'warmupSteps', 'decaySteps'] as const;
  if (!isJsonObject(value)) throw new RunConfigError('innerSchedule', `must be an object {${fields.join(', ')}}`);
  onlyKnown(value, fields, 'innerSchedule.', `a schedule setting (${fields.join(', ')})`);
  const at = (f: (typeof fields)[number]): string => `innerSchedule.${f}`;
  const schedule: CosineSchedule = {
    maxLr: num(value, 'maxLr', 0, 1, false, at('maxLr')),
    minLr: num(value, 'minLr', 0, 1, false, at('minLr')),
    warmupSteps: num(value, 'warmupSteps', 0, 1e9, true, at('warmupSteps')),
    decaySteps: num(value, 'decaySteps', 1, 1e9, true, at('decaySteps')),
  };
  // The cosine decays from maxLr to minLr: the other way round it would climb as training goes on.
  if (schedule.minLr > schedule.maxLr) throw new RunConfigError(at('minLr'), `must not exceed innerSchedule.maxLr (${schedule.minLr} > ${schedule.maxLr})`);
  return schedule;
}

function parseIce(value: unknown): IceSettings {
  if (!isJsonObject(value)) throw new RunConfigError('ice', 'must be an object {stun?, turn?, relayOnly?}');
  const o = value;
  onlyKnown(o, ['stun', 'turn', 'relayOnly'], 'ice.', 'an ICE setting (stun, turn, relayOnly)');
  const urls = (field: 'stun' | 'turn', scheme: RegExp): string[] => {
    const v = o[field] ?? [];
    if (!Array.isArray(v) || v.length > MAX_ICE_URLS) throw new RunConfigError(`ice.${field}`, `must be a list of at most ${MAX_ICE_URLS} URLs`);
    v.forEach((u, i) => {
      if (typeof u !== 'string' || !ICE_URL.test(u) || !scheme.test(u))
        throw new RunConfigError(
          `ice.${field}[${i}]`,
          `must be a ${field === 'stun' ? 'stun:HOST[:PORT]' : 'turn:HOST[:PORT][?transport=udp|tcp] or turns:…'} URL, got ${shown(u)}`,
        );
    });
    return v as string[];
  };
  const ice: IceSettings = { stun: urls('stun', /^stun:/), turn: urls('turn', /^turns?:/), relayOnly: false };
  if (o.relayOnly !== undefined) {
    if (typeof o.relayOnly !== 'boolean') throw new RunConfigError('ice.relayOnly', 'must be true or false');
    ice.relayOnly = o.relayOnly;
  }
  if (ice.relayOnly && ice.turn.length === 0) throw new RunConfigError('ice.relayOnly', 'needs at least one TURN URL in ice.turn');
  return ice;
}
