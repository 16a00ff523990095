// Loading what a headless participant needs from disk: the run configuration (validated,
// with the field and reason on error) and secret keys (refused if others can read them).
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PRESETS, type PresetName } from '../gpu/config';
import { toHex } from '../protocol/bytes';
import { ed25519Signer, type Signer } from '../protocol/keys';
import { WalletError } from '../wallet/errors';
import { signerFromSecret } from '../wallet/keySource';
import type { RunConfig } from '../swarm/runConfig';

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

function num(o: Json, field: string, lo: number, hi: number, integer = false): number {
  const v = o[field];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi || (integer && !Number.isInteger(v))) throw new RunConfigError(field, `must be ${integer ? 'an integer' : 'a number'} in [${lo}, ${hi}], got ${JSON.stringify(v)}`);
  return v;
}

/** Checks every field of a parsed run file; unknown fields are refused too (typos). */
export function parseRunConfig(value: unknown): RunConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new RunConfigError('(root)', 'must be a JSON object');
  const o = value as Json;
  const known = ['runId', 'preset', 'seed', 'startTime', 'windowMs', 'graceMs', 'uploadMarginMs', 'minSteps', 'batchSize', 'seqLen', 'outerLr', 'innerSchedule', 'validatorKeys'];
  for (const k of Object.keys(o)) if (!known.includes(k)) throw new RunConfigError(k, 'is not a run configuration field');
  if (typeof o.runId !== 'string' || !/^[A-Za-z0-9._:-]{1,64}$/.test(o.runId)) throw new RunConfigError('runId', 'must be 1-64 characters of A-Z a-z 0-9 . _ : -');
  if (typeof o.preset !== 'string' || !(o.preset in PRESETS)) throw new RunConfigError('preset', `must be one of ${Object.keys(PRESETS).join(', ')}`);
  const preset = o.preset as PresetName;
  const s = o.innerSchedule as Json | undefined;
  if (typeof s !== 'object' || s === null) throw new RunConfigError('innerSchedule', 'must be an object {maxLr, minLr, warmupSteps, decaySteps}');
  if (!Array.isArray(o.validatorKeys) || o.validatorKeys.length === 0 || !o.validatorKeys.every((k) => typeof k === 'string' && /^[0-9a-f]{64}$/.test(k))) throw new RunConfigError('validatorKeys', 'must be a non-empty list of 64-hex-digit public keys');
  const windowMs = num(o, 'windowMs', 1000, 3_600_000, true);
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
    seqLen: num(o, 'seqLen', 1, PRESETS[preset].contextLength, true),
    outerLr: num(o, 'outerLr', Number.MIN_VALUE, 10),
    innerSchedule: {
      maxLr: num(s, 'maxLr', 0, 1),
      minLr: num(s, 'minLr', 0, 1),
      warmupSteps: num(s, 'warmupSteps', 0, 1e9, true),
      decaySteps: num(s, 'decaySteps', 1, 1e9, true),
    },
    validatorKeys: o.validatorKeys as string[],
  };
  if (config.graceMs + config.uploadMarginMs >= windowMs) throw new RunConfigError('graceMs', `plus uploadMarginMs must leave training time in a ${windowMs} ms window`);
  return config;
}

export function loadRunConfig(path: string): RunConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new RunConfigError('(file)', `cannot be read from ${path}: ${(err as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new RunConfigError('(file)', `${path} is not JSON: ${(err as Error).message}`);
  }
  return parseRunConfig(value);
}

/** A secret from a file only its owner can read (never from the command line, where `ps` shows it). */
export function readSecretFile(path: string): string {
  const mode = statSync(path).mode & 0o777;
  if (mode & 0o077) throw new Error(`key file ${path} is readable by others (mode ${mode.toString(8)}): run chmod 600 ${path}`);
  return readFileSync(path, 'utf8').trim();
}

/**
 * A secret from `--<flag> FILE`, else from the environment variable `env`, else undefined.
 * Both at once is refused: which one wins would be a guess.
 */
export function secretFrom(path: string | undefined, env: string): string | undefined {
  const fromEnv = process.env[env]?.trim();
  if (path !== undefined && fromEnv) throw new Error(`both a key file and ${env} are set; give one`);
  return path !== undefined ? readSecretFile(path) : fromEnv || undefined;
}

/**
 * A signing key from a key file: 64 hex digits (an Ed25519 seed, as `tessera keygen` writes),
 * or a mnemonic, 0x seed or secret URI (sr25519).
 */
export function loadKeyFile(path: string): Signer {
  try {
    return signerFromSecret(readSecretFile(path));
  } catch (err) {
    if (!(err instanceof WalletError)) throw err;
    throw new Error(`key file ${path}: ${err.message}; expected 64 hex digits, a mnemonic, a 0x seed or a secret URI`);
  }
}

/** Creates a fresh key file with mode 600 (refuses to overwrite one). */
export function createKeyFile(path: string): Signer {
  const seed = crypto.getRandomValues(new Uint8Array(32));
  writeFileSync(path, `${Array.from(seed, (b) => b.toString(16).padStart(2, '0')).join('')}\n`, { mode: 0o600, flag: 'wx' });
  return ed25519Signer(seed);
}

/** A fresh run in `dir`: run.json and an owner-only validator.key, starting in 15 s. */
export function writeRun(dir: string, o: { preset: PresetName; windowMs: number; graceMs?: number; runId?: string; batchSize?: number; seqLen?: number }): RunConfig {
  mkdirSync(dir, { recursive: true });
  const key = createKeyFile(join(dir, 'validator.key'));
  const run = parseRunConfig({
    runId: o.runId ?? `local-${Date.now().toString(36)}`,
    preset: o.preset, seed: 1337, startTime: Date.now() + 15_000, windowMs: o.windowMs, graceMs: o.graceMs ?? Math.round(o.windowMs / 6), uploadMarginMs: Math.round(o.windowMs / 15), minSteps: 3,
    batchSize: o.batchSize ?? 4, seqLen: o.seqLen ?? Math.min(64, PRESETS[o.preset].contextLength), outerLr: 1,
    innerSchedule: { maxLr: 2e-3, minLr: 2e-4, warmupSteps: 20, decaySteps: 20_000 }, validatorKeys: [toHex(key.publicKey)],
  });
  writeFileSync(join(dir, 'run.json'), `${JSON.stringify(run, null, 2)}\n`);
  return run;
}
