// Run files and key files for headless participants: every malformed field is named with
// its reason, and a key file others can read is refused.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createKeyFile, loadKeyFile, loadRunConfig, parseRunConfig, RunConfigError, secretFrom } from '../../src/node/runFile';
import { runModelConfig, type RunConfig } from '../../src/protocol/runConfig';
import { keyAddress } from '../../src/wallet/address';

const good = {
  runId: 'run-1',
  preset: 'tiny',
  seed: 1,
  startTime: 1_700_000_000_000,
  windowMs: 30_000,
  graceMs: 5000,
  uploadMarginMs: 2000,
  minSteps: 3,
  batchSize: 4,
  seqLen: 64,
  outerLr: 1,
  innerSchedule: { maxLr: 2e-3, minLr: 2e-4, warmupSteps: 20, decaySteps: 20_000 },
  validatorKeys: ['ab'.repeat(32)],
};

describe('run files', () => {
  it('accepts a complete configuration', () => {
    expect(parseRunConfig(good)).toEqual(good);
    expect(parseRunConfig({ ...good, maxSteps: 40, unitSteps: 4 })).toEqual({ ...good, maxSteps: 40, unitSteps: 4 });
    const full = {
      ...good,
      corpus: 'tinyshakespeare.txt',
      netuid: 3,
      ice: {
        stun: ['stun:turn.example.org:3478'],
        turn: ['turn:turn.example.org:3478?transport=udp', 'turns:turn.example.org:5349?transport=tcp'],
        relayOnly: true,
      },
    };
    expect(parseRunConfig(full)).toEqual(full);
    expect(parseRunConfig({ ...good, ice: { turn: ['turn:10.0.0.2'] } }).ice).toEqual({ stun: [], turn: ['turn:10.0.0.2'], relayOnly: false });
    // A model of the run's own (its context bounds seqLen instead of the preset's) and GPT-2's tokenizer.
    const own = { ...good, preset: 'gpt2-small', tokenizer: 'gpt2', seqLen: 256, model: { layers: 3, heads: 4, embedDim: 128, contextLength: 256 } };
    expect(parseRunConfig(own)).toEqual(own);
    expect(runModelConfig(parseRunConfig(own), 50_257)).toEqual({ layers: 3, heads: 4, embedDim: 128, contextLength: 256, vocabSize: 50_257 });
    expect(runModelConfig(parseRunConfig({ ...good, preset: 'middle' }), 50_257)).toEqual({
      layers: 6,
      heads: 8,
      embedDim: 512,
      contextLength: 512,
      vocabSize: 50_257,
    });
  });

  it.each([
    [{ runId: 'bad id!' }, /runId must be/],
    [{ preset: 'huge' }, /preset must be one of tiny, small, shakespeare, middle, gpt2-small/],
    [{ windowMs: 10 }, /windowMs must be an integer in \[1000/],
    [{ seqLen: 65 }, /seqLen must be an integer in \[1, 64\]/],
    [{ outerLr: 'fast' }, /outerLr must be a number/],
    [{ validatorKeys: [] }, /validatorKeys must be a non-empty list/],
    [{ graceMs: 20_000, uploadMarginMs: 10_000 }, /graceMs plus uploadMarginMs must leave training time/],
    [{ preset: 'constructor' }, /preset must be one of tiny, small, shakespeare/],
    [{ preset: 'toString' }, /preset must be one of/],
    [{ preset: '__proto__' }, /preset must be one of/],
    [{ innerSchedule: { maxLr: 2, minLr: 0, warmupSteps: 0, decaySteps: 1 } }, /^run configuration: innerSchedule\.maxLr must be a number in \[0, 1\], got 2$/],
    [{ innerSchedule: { maxLr: 1e-3, minLr: 0, warmupSteps: 0.5, decaySteps: 1 } }, /innerSchedule\.warmupSteps must be an integer/],
    [{ innerSchedule: { maxLr: 1e-3, minLr: 0, warmupSteps: 0 } }, /innerSchedule\.decaySteps must be an integer in \[1, 1000000000\], got undefined/],
    [
      { innerSchedule: { maxLr: 1e-3, minLr: 2e-3, warmupSteps: 0, decaySteps: 1 } },
      /innerSchedule\.minLr must not exceed innerSchedule\.maxLr \(0\.002 > 0\.001\)/,
    ],
    [{ innerSchedule: [2e-3, 2e-4, 20, 20_000] }, /innerSchedule must be an object \{maxLr, minLr, warmupSteps, decaySteps\}/],
    [{ innerSchedule: null }, /innerSchedule must be an object/],
    [{ innerSchedule: { ...good.innerSchedule, maxlr: 1 } }, /innerSchedule\.maxlr is not a schedule setting/],
    [{ extra: 1 }, /extra is not a run configuration field/],
    [{ corpus: '../etc/passwd' }, /corpus must name a text file of the app's data folder/],
    [{ corpus: 'Shakespeare.TXT' }, /corpus must name a text file/],
    [{ netuid: 70_000 }, /netuid must be an integer in \[0, 65535\]/],
    [{ maxSteps: 2 }, /maxSteps must be at least minSteps \(3\), got 2/],
    [{ maxSteps: 501 }, /maxSteps must be an integer in \[1, 500\]/],
    [{ unitSteps: 3 }, /unitSteps must be even \(each batch is trained twice\), got 3/],
    [{ unitSteps: 0 }, /unitSteps must be an integer in \[2, 500\]/],
    [{ unitSteps: 8, maxSteps: 6 }, /unitSteps must not exceed maxSteps \(6\), got 8/],
    [{ ice: [] }, /ice must be an object/],
    [{ ice: { stun: ['http://example.org'] } }, /ice\.stun\[0\] must be a stun:HOST/],
    [{ ice: { turn: ['turn:host:3478?transport=quic'] } }, /ice\.turn\[0\] must be a turn:HOST/],
    [{ ice: { turn: ['turn:a"b'] } }, /ice\.turn\[0\]/],
    [{ ice: { stun: ['turn:host'] } }, /ice\.stun\[0\]/],
    [{ ice: { turn: Array(9).fill('turn:h') } }, /ice\.turn must be a list of at most 8 URLs/],
    [{ ice: { relayOnly: true } }, /ice\.relayOnly needs at least one TURN URL/],
    [{ ice: { relayOnly: 'yes', turn: ['turn:h'] } }, /ice\.relayOnly must be true or false/],
    [{ ice: { username: 'x' } }, /ice\.username is not an ICE setting/],
    [{ tokenizer: 'bpe' }, /tokenizer must be one of char, byte, gpt2, got "bpe"/],
    [{ model: { layers: 2, heads: 3, embedDim: 64, contextLength: 64 } }, /model\.heads must divide model\.embedDim \(64\), got 3/],
    [{ model: { layers: 2, heads: 2, embedDim: 66, contextLength: 64 } }, /model\.embedDim must be a multiple of 4, got 66/],
    [{ model: { layers: 0, heads: 2, embedDim: 64, contextLength: 64 } }, /model\.layers must be an integer in \[1, 48\]/],
    [{ model: { layers: 2, heads: 2, embedDim: 64, contextLength: 32 } }, /seqLen must be an integer in \[1, 32\]/],
    [{ model: { layers: 2, heads: 2, embedDim: 64, contextLength: 64, vocab: 9 } }, /model\.vocab is not a model setting/],
    [{ model: [2, 2, 64, 64] }, /model must be an object \{layers, heads, embedDim, contextLength\}/],
  ])('refuses %j with the field and the reason', (patch, message) => {
    expect(() => parseRunConfig({ ...good, ...patch })).toThrow(RunConfigError);
    expect(() => parseRunConfig({ ...good, ...patch })).toThrow(message);
  });

  it('shows a non-finite number as it is, not as JSON null', () => {
    expect(() => parseRunConfig({ ...good, outerLr: Infinity })).toThrow(/outerLr must be a number in \[5e-324, 10\], got Infinity$/);
    expect(() => parseRunConfig({ ...good, innerSchedule: { ...good.innerSchedule, maxLr: NaN } })).toThrow(
      /innerSchedule\.maxLr must be a number in \[0, 1\], got NaN$/,
    );
    expect(() => parseRunConfig({ ...good, windowMs: -Infinity })).toThrow(/windowMs must be an integer in \[1000, 3600000\], got -Infinity$/);
  });

  it('names the file when it is missing or not JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-run-'));
    expect(() => loadRunConfig(join(dir, 'none.json'))).toThrow(/cannot be read/);
    writeFileSync(join(dir, 'bad.json'), '{ nope');
    expect(() => loadRunConfig(join(dir, 'bad.json'))).toThrow(/bad\.json is not JSON/);
  });
});

describe('key files', () => {
  it('round-trips a created key and refuses one readable by others', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-key-'));
    const path = join(dir, 'k.key');
    const created = createKeyFile(path);
    expect(loadKeyFile(path).publicKey).toEqual(created.publicKey);
    expect(() => createKeyFile(path)).toThrow(); // never overwrites
    chmodSync(path, 0o644);
    expect(() => loadKeyFile(path)).toThrow(/readable by others .* chmod 600/);
    writeFileSync(join(dir, 'short.key'), 'abcd', { mode: 0o600 });
    expect(() => loadKeyFile(join(dir, 'short.key'))).toThrow(/short\.key: .*expected 64 hex digits, a mnemonic/);
  });

  it('reads a wallet secret from an owner-only file or the environment, never both', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-key-'));
    const path = join(dir, 'wallet.secret');
    writeFileSync(path, 'bottom drive obey lake curtain smoke basket hold race lonely fit walk//Alice\n', { mode: 0o600 });
    expect(keyAddress(loadKeyFile(path).publicKey)).toBe('5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY');
    expect(secretFrom(path, 'TESSERA_TEST_SECRET')).toContain('//Alice');
    process.env.TESSERA_TEST_SECRET = '//Bob';
    try {
      expect(secretFrom(undefined, 'TESSERA_TEST_SECRET')).toBe('//Bob');
      expect(() => secretFrom(path, 'TESSERA_TEST_SECRET')).toThrow(/both a key file and TESSERA_TEST_SECRET/);
    } finally {
      delete process.env.TESSERA_TEST_SECRET;
    }
    expect(secretFrom(undefined, 'TESSERA_TEST_SECRET')).toBeUndefined();
    chmodSync(path, 0o640);
    expect(() => secretFrom(path, 'TESSERA_TEST_SECRET')).toThrow(/readable by others/);
  });

  it('init-run writes a unit-mode run unless told --unit-steps 0, and says which', () => {
    const cli = join(import.meta.dirname, '..', '..', 'src', 'node', 'tessera.ts');
    const init = (...extra: string[]): { run: RunConfig; said: string } => {
      const out = mkdtempSync(join(tmpdir(), 'tessera-init-'));
      const r = spawnSync(process.execPath, ['--import', 'tsx', cli, 'init-run', '--out', out, ...extra], { encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      return { run: loadRunConfig(join(out, 'run.json')), said: r.stdout };
    };
    const units = init();
    expect(units.run).toMatchObject({ unitSteps: 2, minSteps: 2 });
    expect(units.said).toContain('unit mode, 2-step units');
    const chained = init('--unit-steps', '0');
    expect(chained.run.unitSteps).toBeUndefined();
    expect(chained.said).toContain('window mode');
    expect(init('--unit-steps', '8').run.unitSteps).toBe(8);
  });
});
