// Loading what a headless participant needs from disk: the run configuration (validated,
// with the field and reason on error) and secret keys (refused if others can read them).
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PRESETS, type PresetName, type TokenizerKind } from '../model/config';
import { toHex } from '../protocol/bytes';
import { ed25519Signer, type Signer } from '../protocol/keys';
import { WalletError } from '../wallet/errors';
import { signerFromSecret } from '../wallet/keySource';
import { parseRunConfig, RunConfigError } from '../protocol/parseRunConfig';
import type { RunConfig } from '../protocol/runConfig';

export { parseRunConfig, RunConfigError };

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

/** A fresh run in `dir`: run.json and an owner-only validator.key, starting in 15 s unless told otherwise. */
export function writeRun(
  dir: string,
  o: {
    preset: PresetName;
    windowMs: number;
    graceMs?: number;
    startInMs?: number;
    runId?: string;
    batchSize?: number;
    seqLen?: number;
    maxSteps?: number;
    unitSteps?: number;
    tokenizer?: TokenizerKind;
  },
): RunConfig {
  const startInMs = o.startInMs ?? 15_000;
  // Checked here: parseRunConfig sees only the resulting startTime, which any number makes valid.
  if (!Number.isInteger(startInMs) || startInMs < 0) throw new Error(`--start-in-ms must be a whole number of milliseconds ≥ 0, got ${startInMs}`);
  mkdirSync(dir, { recursive: true });
  const key = createKeyFile(join(dir, 'validator.key'));
  const run = parseRunConfig({
    runId: o.runId ?? `local-${Date.now().toString(36)}`,
    preset: o.preset,
    seed: 1337,
    startTime: Date.now() + startInMs,
    windowMs: o.windowMs,
    graceMs: o.graceMs ?? Math.round(o.windowMs / 6),
    uploadMarginMs: Math.round(o.windowMs / 15),
    minSteps: o.unitSteps ?? 3,
    batchSize: o.batchSize ?? 4,
    seqLen: o.seqLen ?? Math.min(64, PRESETS[o.preset].contextLength),
    outerLr: 1,
    innerSchedule: { maxLr: 2e-3, minLr: 2e-4, warmupSteps: 20, decaySteps: 20_000 },
    validatorKeys: [toHex(key.publicKey)],
    ...(o.maxSteps === undefined ? {} : { maxSteps: o.maxSteps }),
    ...(o.unitSteps === undefined ? {} : { unitSteps: o.unitSteps }),
    ...(o.tokenizer === undefined ? {} : { tokenizer: o.tokenizer }),
  });
  writeFileSync(join(dir, 'run.json'), `${JSON.stringify(run, null, 2)}\n`);
  return run;
}
