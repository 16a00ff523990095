// Checkpoint encoding: round trips exactly; truncation, corruption, foreign files and
// checkpoints for another model are typed errors, and nothing partial is returned.
import { describe, expect, it } from 'vitest';
import { gptConfig } from '../src/model/config';
import { CheckpointError, decodeCheckpoint, encodeCheckpoint } from '../src/train/checkpoint';
import { randomFloats } from './support/random';

const config = gptConfig('tiny', 65);
const meta = { config, tokenizer: { kind: 'byte' as const }, step: 42, preset: 'tiny', savedAt: '2026-11-25T00:00:00Z' };
const state = { params: randomFloats(1000, 1), m: randomFloats(1000, 2), v: randomFloats(1000, 3).map(Math.abs) };

async function codeOf(bytes: Uint8Array, expectModel?: Parameters<typeof decodeCheckpoint>[1]): Promise<string> {
  try {
    await decodeCheckpoint(bytes, expectModel);
    return 'decoded';
  } catch (err) {
    expect(err).toBeInstanceOf(CheckpointError);
    return (err as CheckpointError).code;
  }
}

describe('checkpoints', () => {
  it('round-trip parameters, moments and metadata bit for bit', async () => {
    const { bytes, hash } = await encodeCheckpoint(meta, state);
    const back = await decodeCheckpoint(bytes, { config, floats: 1000, tokenizer: { kind: 'byte' } });
    expect(back.hash).toBe(hash);
    expect(back.meta).toEqual(meta);
    expect(Buffer.from(back.state.params.buffer).equals(Buffer.from(state.params.buffer))).toBe(true);
    expect(Buffer.from(back.state.v.buffer).equals(Buffer.from(state.v.buffer))).toBe(true);
  });

  it('detects corruption anywhere in the body by its hash', async () => {
    const { bytes } = await encodeCheckpoint(meta, state);
    const flipped = bytes.slice();
    flipped[flipped.length - 7] ^= 1;
    expect(await codeOf(flipped)).toBe('hash-mismatch');
  });

  it('refuses truncated, foreign and malformed files', async () => {
    const { bytes } = await encodeCheckpoint(meta, state);
    expect(await codeOf(bytes.subarray(0, bytes.length - 4))).toBe('truncated');
    expect(await codeOf(bytes.subarray(0, 10))).toBe('bad-magic');
    expect(await codeOf(new TextEncoder().encode('{"hello": "world"}'))).toBe('bad-magic');
    const badLength = bytes.slice();
    new DataView(badLength.buffer).setUint32(15, 0xffffffff, true);
    expect(await codeOf(badLength)).toBe('truncated');
    const badJson = bytes.slice();
    badJson[20] = 0x7b; // corrupt the header's JSON
    expect(await codeOf(badJson)).toBe('bad-header');
  });

  it('refuses a checkpoint made for another model or tokenizer', async () => {
    const { bytes } = await encodeCheckpoint(meta, state);
    expect(await codeOf(bytes, { config: gptConfig('small', 65), floats: 1000 })).toBe('model-mismatch');
    expect(await codeOf(bytes, { config, floats: 1000, tokenizer: { kind: 'char', chars: 'ab' } })).toBe('model-mismatch');
  });
});
