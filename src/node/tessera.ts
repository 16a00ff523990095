// `tessera`: the headless entry points. `peer` trains on Dawn and contributes, `validator`
// closes windows and signs manifests, `signal` runs a bare signaling server, `init-run`
// writes a run file and a validator key. Secrets come from key files, never from argv.
import { createServer } from 'node:http';
import { appendFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { attachSignaling } from '../../server/signaling';
import { HTTP_TIMEOUTS, refuseMalformedRequests } from '../../server/httpSafety';
import { serveStatus } from '../../server/validatorStatus';
import { GpuUnavailableError } from '../gpu/device';
import { PRESETS, TOKENIZER_KINDS, type PresetName, type TokenizerKind } from '../model/config';
import { paramLayout } from '../model/layout';
import { estimateMemory, mib } from '../gpu/memoryPlan';
import { toHex } from '../protocol/bytes';
import { sr25519Signer, type Signer } from '../protocol/keys';
import { runModelConfig, type RunConfig } from '../protocol/runConfig';
import { checkValidatorKey, openPeer, openValidator } from '../swarm/assemble';
import type { GauntletLimits } from '../validator/gauntlet';
import { Ledger } from '../validator/ledger';
import type { AddressWeight } from '../validator/weights';
import { sessionIdentity, type Identity } from '../wallet/authority';
import { delegateSession, signerFromSecret, walletPairFromSecret } from '../wallet/keySource';
import { nodePlatform, readRunCorpus } from './nodePlatform';
import { createKeyFile, loadRunConfig, secretFrom, writeRun } from './runFile';
import { SubtensorClient } from './subtensor';

const USAGE = `usage:
  tessera init-run --out DIR [--preset tiny|small|shakespeare|middle|gpt2-small] [--tokenizer char|byte|gpt2] [--window-ms N] [--grace-ms N] [--start-in-ms N] [--max-steps N] [--unit-steps N (default 2; 0: window mode)] [--run-id ID]
  tessera peer --run FILE --signal ws://HOST:PORT/signal [--key FILE] [--wallet FILE] [--name NAME] [--report FILE.jsonl]
  tessera validator --run FILE --signal ws://HOST:PORT/signal --key FILE [--ledger FILE.sqlite] [--status-port N]
                    [--score gpu|cpu|off] [--score-max N] [--score-pages OWN,RANDOM] [--val-sequences N] [--subtensor wss://HOST --netuid N [--version-key K]]
secrets (files must be chmod 600; or the environment, never argv):
  --key FILE    | TESSERA_KEY      signing key: 64 hex digits (Ed25519, as keygen writes), a mnemonic,
                                    a 0x seed or a secret URI (sr25519). A peer without one makes a fresh one.
  --wallet FILE | TESSERA_WALLET   a peer's wallet (mnemonic, 0x seed or secret URI): it signs a 30-day
                                    certificate for the session key, so contributions earn for its address.
  tessera serve [--port N] [--host ADDR] [--run FILE] [--tls-cert FILE --tls-key FILE] [--turn-secret FILE] [--turn-ttl S]
                                    the app, signaling and TURN credentials on one port (docs/DEPLOY.md)
  tessera signal [--port N] [--host ADDR]
  tessera keygen --out FILE`;

function flags(argv: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || argv[i + 1] === undefined) throw new Error(`expected --flag value pairs, got "${argv[i]}"\n${USAGE}`);
    out.set(argv[i].slice(2), argv[i + 1]);
  }
  return out;
}

function required(f: Map<string, string>, name: string): string {
  const v = f.get(name);
  if (v === undefined) throw new Error(`--${name} is required\n${USAGE}`);
  return v;
}

/** Ctrl-C or SIGTERM: release what we hold, then exit whatever the cleanup does. */
function onShutdown(cleanup: () => unknown): void {
  const stop = (): void => {
    try {
      cleanup();
    } finally {
      process.exit(0);
    }
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

async function peer(f: Map<string, string>): Promise<void> {
  const run = loadRunConfig(required(f, 'run'));
  const identity = peerIdentity(f, run.runId);
  const name = f.get('name') ?? `peer-${toHex(identity.signer.publicKey).slice(0, 12)}`;
  const report = f.get('report');
  const log = (l: string): void => console.log(`[${name}] ${l}`);
  const session = await openPeer(nodePlatform(name, log), run, {
    signalUrl: required(f, 'signal'),
    identity,
    name,
    onSync: (r, t, w) => log(`checkpoint θ_${w}: ${r}/${t} chunks`),
    onWindow: (r) => {
      if (report) appendFileSync(report, `${JSON.stringify({ peer: name, ...r })}\n`);
      log(
        `window ${r.window}: ${r.steps} steps, loss ${r.trainLoss?.toFixed(3) ?? '-'}, ${r.included ? 'accepted' : r.contributed ? 'not accepted' : 'no contribution'} (${r.accepted} in manifest), θ ${r.hash.slice(0, 12)}, up ${r.bytesUp} B down ${r.bytesDown} B, compute ${(r.computeMs / 1000).toFixed(1)} s, communication ${(r.commMs / 1000).toFixed(2)} s, waiting for the manifest ${(r.waitMs / 1000).toFixed(1)} s`,
      );
    },
  });
  onShutdown(session.stop);
  log(`contributing as ${identity.address}${identity.certificate.length ? ' (wallet certificate)' : ' (session key only: no rewards)'}`);
  log(`${run.preset} on ${session.trainer.device}, run ${run.runId}, ${session.fresh ? 'from θ_0' : 'syncing the current model first'}`);
  await session.run();
}

/** The session key (key file, TESSERA_KEY, or fresh) and, given a wallet, its certificate. */
function peerIdentity(f: Map<string, string>, runId: string): Identity {
  const key = secretFrom(f.get('key'), 'TESSERA_KEY');
  const signer = key === undefined ? sr25519Signer(crypto.getRandomValues(new Uint8Array(32))) : signerFromSecret(key);
  const wallet = secretFrom(f.get('wallet'), 'TESSERA_WALLET');
  return sessionIdentity(signer, wallet === undefined ? undefined : delegateSession(walletPairFromSecret(wallet), signer, runId, Date.now()));
}

async function validator(f: Map<string, string>): Promise<void> {
  const run = loadRunConfig(required(f, 'run'));
  const key = secretFrom(f.get('key'), 'TESSERA_KEY');
  if (key === undefined) throw new Error(`a validator needs --key FILE or TESSERA_KEY\n${USAGE}`);
  const signer: Signer = signerFromSecret(key);
  const publicKey = checkValidatorKey(run, signer);
  const name = f.get('name') ?? `validator-${publicKey.slice(0, 12)}`;
  const log = (l: string): void => console.log(`[${name}] ${l}`);
  const scoring = f.get('score') ?? 'gpu';
  if (scoring !== 'gpu' && scoring !== 'cpu' && scoring !== 'off') throw new Error('--score must be gpu, cpu or off');
  const ledgerPath = f.get('ledger') ?? join(dirname(resolve(required(f, 'run'))), `ledger-${publicKey.slice(0, 12)}.sqlite`);
  const ledger = new Ledger(ledgerPath, run.runId);
  const resumed = ledger.resume();
  const submit = await weightSubmitter(f, run, key, log);
  const session = await openValidator(nodePlatform(name, log), run, {
    signalUrl: required(f, 'signal'),
    signer,
    name,
    scoring,
    ledger,
    resume: resumed,
    limits: scoreLimits(f),
    validationSequences: validationSequences(f),
    onWeights: async (w, weights) => {
      log(
        `weights after window ${w}${submit ? '' : ' (dry run: no --subtensor)'}: ${weights.length ? weights.map((x) => `${x.address}=${x.weight}`).join(' ') : 'nobody has earned yet'}`,
      );
      if (submit && weights.length) await submit(weights);
    },
  });
  log(
    scoring === 'off'
      ? `scoring off: contributions are checked, not scored (validation loss on ${session.probes.label})`
      : `scoring on ${session.probes.label}, in a worker thread`,
  );
  const statusPort = f.get('status-port');
  const status =
    statusPort === undefined
      ? undefined
      : serveStatus(
          ledger,
          Number(statusPort),
          f.get('status-host') ?? '127.0.0.1',
          (url) => log(`status API on ${url}`),
          undefined,
          () => session.model.snapshot(),
        );
  onShutdown(() => [session.stop(), status?.close(), ledger.close()]);
  log(
    `validating run ${run.runId} (${run.preset}), windows of ${run.windowMs / 1000} s; ledger ${ledgerPath}${resumed ? `, resuming at window ${resumed.window}` : ''}`,
  );
  await session.run();
}

/** --score-max N (candidates scored per window) and --score-pages OWN,RANDOM (sequences each). */
function scoreLimits(f: Map<string, string>): Partial<GauntletLimits> {
  const limits: Partial<GauntletLimits> = {};
  const max = f.get('score-max');
  if (max !== undefined) {
    limits.maxScored = Number(max);
    if (!Number.isInteger(limits.maxScored) || limits.maxScored < 0) throw new Error('--score-max must be a non-negative integer');
  }
  const pages = f.get('score-pages');
  if (pages !== undefined) {
    const [own, random] = pages.split(',').map(Number);
    if (!(Number.isInteger(own) && own >= 2 && Number.isInteger(random) && random >= 2)) throw new Error('--score-pages must be OWN,RANDOM: two integers ≥ 2');
    Object.assign(limits, { ownSequences: own, randomSequences: random });
  }
  return limits;
}

/** --val-sequences N: held-out sequences measured after every window (0: no validation curve). */
function validationSequences(f: Map<string, string>): number {
  const count = Number(f.get('val-sequences') ?? 16);
  if (!Number.isInteger(count) || count < 0 || count > 4096) throw new Error('--val-sequences must be an integer 0-4096');
  return count;
}

/** With --subtensor URL (and --netuid N, or the run's netuid), weights go to the chain signed by the validator's key (its hotkey). */
async function weightSubmitter(
  f: Map<string, string>,
  run: RunConfig,
  key: string,
  log: (l: string) => void,
): Promise<((w: AddressWeight[]) => Promise<void>) | undefined> {
  const endpoint = f.get('subtensor');
  if (endpoint === undefined) return undefined;
  const netuid = Number(f.get('netuid') ?? run.netuid ?? required(f, 'netuid'));
  if (!Number.isInteger(netuid) || netuid < 0 || netuid > 65_535) throw new Error('--netuid must be an integer in [0, 65535]');
  const client = await SubtensorClient.connect({ endpoint, netuid, versionKey: Number(f.get('version-key') ?? 0) }, walletPairFromSecret(key));
  log(`submitting weights to ${endpoint}, netuid ${netuid}`);
  return async (weights) => {
    try {
      const r = await client.setWeights(weights);
      log(`set_weights in block ${r.blockHash} for uids ${r.uids.join(',')}${r.skipped.length ? `; not registered: ${r.skipped.join(', ')}` : ''}`);
    } catch (err) {
      log(`set_weights failed: ${(err as Error).message}`);
    }
  };
}

function signal(f: Map<string, string>): void {
  const port = Number(f.get('port') ?? 8787);
  const host = f.get('host') ?? '127.0.0.1';
  const log = (e: Record<string, unknown>): void => console.log(JSON.stringify({ ts: new Date().toISOString(), ...e }));
  const server = createServer(HTTP_TIMEOUTS, (req, res) => {
    if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true, signaling: signaling.stats() }));
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  refuseMalformedRequests(server, log);
  const signaling = attachSignaling(server, { log });
  server.listen(port, host, () => console.log(`[signal] ws://${host}:${port}/signal (health: http://${host}:${port}/healthz)`));
  process.once('SIGINT', () => void signaling.close().then(() => process.exit(0)));
}

/** init-run's unit length: the shortest unit (each batch is trained twice), as `npm start` runs. */
const DEFAULT_UNIT_STEPS = 2;

async function initRun(f: Map<string, string>): Promise<void> {
  const out = resolve(required(f, 'out'));
  const preset = (f.get('preset') ?? 'tiny') as PresetName;
  if (!Object.hasOwn(PRESETS, preset)) throw new Error(`--preset must be one of ${Object.keys(PRESETS).join(', ')}`);
  const tokenizer = (f.get('tokenizer') ?? 'char') as TokenizerKind;
  if (!TOKENIZER_KINDS.includes(tokenizer)) throw new Error(`--tokenizer must be one of ${TOKENIZER_KINDS.join(', ')}`);
  const optional = (name: string): number | undefined => (f.has(name) ? Number(f.get(name)) : undefined);
  // Unit mode unless asked otherwise (--unit-steps 0): its proof of work holds on a phone and on
  // a desktop GPU alike, where a window-mode run's weakens as the device gets faster.
  const units = optional('unit-steps') ?? DEFAULT_UNIT_STEPS;
  const run = writeRun(out, {
    preset,
    windowMs: optional('window-ms') ?? 30_000,
    graceMs: optional('grace-ms'),
    startInMs: optional('start-in-ms'),
    maxSteps: optional('max-steps'),
    unitSteps: units === 0 ? undefined : units,
    runId: f.get('run-id'),
    tokenizer: tokenizer === 'char' ? undefined : tokenizer,
  });
  const mode = run.unitSteps === undefined ? 'window mode' : `unit mode, ${run.unitSteps}-step units`;
  console.log(`[tessera] wrote ${join(out, 'run.json')} and validator.key (mode 600); ${mode}; the run starts at ${new Date(run.startTime).toISOString()}`);
  console.log(`[tessera] ${modelSummary(run, (await readRunCorpus(run)).tokenizer.vocabSize)}`);
}

/** The run's model in one line: shape, parameters, and the GPU memory a peer needs at the run's batch. */
function modelSummary(run: RunConfig, vocab: number): string {
  const config = runModelConfig(run, vocab);
  const est = estimateMemory(config, { batchSize: run.batchSize, seqLen: run.seqLen, microSteps: 1 });
  const params = paramLayout(config).parameterCount;
  // WebGPU's default maxStorageBufferBindingSize: what an adapter must offer at the least.
  const fitsDefault = est.largestBuffer <= 128 * 2 ** 20;
  return `model ${run.preset}: ${config.layers} layers × ${config.embedDim}, ${config.heads} heads, context ${config.contextLength}, vocab ${vocab} (${run.tokenizer ?? 'char'}), ${(params / 1e6).toFixed(2)}M parameters; a peer at batch ${run.batchSize} × ${run.seqLen} needs ≈ ${mib(est.total)} of GPU memory, largest buffer ${mib(est.largestBuffer)}${fitsDefault ? '' : ' (over the 128 MiB per binding every WebGPU adapter offers: adapters with less refuse this preset)'}`;
}

const [command, ...rest] = process.argv.slice(2);
try {
  const f = flags(rest);
  if (command === 'peer') await peer(f);
  else if (command === 'validator') await validator(f);
  else if (command === 'signal') signal(f);
  else if (command === 'init-run') await initRun(f);
  else if (command === 'keygen')
    console.log(`[tessera] wrote ${required(f, 'out')} (mode 600), public key ${toHex(createKeyFile(required(f, 'out')).publicKey)}`);
  else throw new Error(USAGE);
} catch (err) {
  const message =
    err instanceof GpuUnavailableError
      ? `${err.message} (headless peers need a Vulkan driver: a GPU's, or SwiftShader from Debian's chromium package plus libvulkan1)`
      : (err as Error).message;
  console.error(`[tessera] ${message}`);
  process.exit(1);
}
