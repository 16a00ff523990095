// Signed headers and manifests: canonical bytes, signatures bound to their purpose and run,
// and decoders that refuse every tampered, truncated or padded message with a ProtocolError.
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../src/protocol/bytes';
import { decodeContribution, decodeManifest, reportableLoss, signContribution, signManifest, type ContributionFields } from '../../src/protocol/contribution';
import { contentHash, modelHash } from '../../src/protocol/hash';
import { ed25519Signer } from '../../src/protocol/keys';
import { decodeWire, encodeWire, type WireMessage } from '../../src/protocol/wire';
import { seededRandom } from '../support/random';

const signer = ed25519Signer(new Uint8Array(32).fill(7));
const other = ed25519Signer(new Uint8Array(32).fill(9));
const fields: ContributionFields = {
  runId: 'run-1',
  window: 3,
  baseHash: modelHash(Float32Array.of(1, 2, 3)),
  payloadHash: contentHash(Uint8Array.of(1, 2)),
  payloadBytes: 2,
  peerAddress: '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY',
  steps: 30,
  tokens: 7680,
  certificate: new Uint8Array(0),
};

function refusal(f: () => unknown): string {
  try {
    f();
    return 'accepted';
  } catch (err) {
    if (err instanceof ProtocolError) return err.code;
    throw err;
  }
}

describe('contribution headers', () => {
  it('round-trip with a verified signature and a content id', () => {
    const c = signContribution(fields, signer);
    const d = decodeContribution(c.bytes, 'run-1');
    expect(d).toMatchObject({ ...fields, scheme: 1 });
    expect(d.id).toEqual(c.id);
    expect(d.id).toEqual(contentHash(c.bytes));
    expect(signContribution(fields, signer).bytes).toEqual(c.bytes); // Ed25519 is deterministic
  });

  it('carries a reported training loss, refusing one that is not a finite number in range', () => {
    const c = signContribution({ ...fields, trainLoss: 2.5 }, signer);
    expect(decodeContribution(c.bytes).trainLoss).toBe(2.5);
    expect(decodeContribution(signContribution(fields, signer).bytes).trainLoss).toBe(0); // not reported
    // The loss is read before the signature is checked: an out-of-range value is a field error.
    const at = c.bytes.findIndex((_, i) => new DataView(c.bytes.buffer, c.bytes.byteOffset + i, 4).getFloat32(0, true) === 2.5);
    for (const bad of [NaN, Infinity, -1, 65]) {
      const t = c.bytes.slice();
      new DataView(t.buffer).setFloat32(at, bad, true);
      expect(
        refusal(() => decodeContribution(t)),
        String(bad),
      ).toBe('bad-field');
    }
    expect(() => signContribution({ ...fields, trainLoss: NaN }, signer)).toThrow(RangeError);
    expect([reportableLoss(undefined), reportableLoss(NaN), reportableLoss(-2), reportableLoss(1e9), reportableLoss(3.25)]).toEqual([0, 0, 0, 0, 3.25]);
  });

  it('refuses tampering anywhere, truncation, padding, a foreign run and a bad size', () => {
    const { bytes } = signContribution(fields, signer);
    for (let i = 0; i < bytes.length; i++) {
      const t = bytes.slice();
      t[i] ^= 0x01;
      expect(
        refusal(() => decodeContribution(t)),
        `byte ${i}`,
      ).not.toBe('accepted');
    }
    expect(refusal(() => decodeContribution(bytes.subarray(0, bytes.length - 1)))).toBe('truncated');
    expect(refusal(() => decodeContribution(Uint8Array.from([...bytes, 0])))).toBe('trailing-bytes');
    expect(refusal(() => decodeContribution(bytes, 'run-2'))).toBe('wrong-run');
    expect(refusal(() => decodeContribution(signContribution({ ...fields, payloadBytes: 0 }, signer).bytes))).toBe('too-large');
    // Another key's signature spliced in does not verify.
    const forged = bytes.slice();
    forged.set(signContribution(fields, other).signature, bytes.length - 64);
    expect(refusal(() => decodeContribution(forged))).toBe('bad-signature');
  });

  it('survive 5,000 random mutations with nothing but ProtocolError', () => {
    const { bytes } = signContribution(fields, signer);
    const r = seededRandom(5);
    for (let n = 0; n < 5000; n++) {
      const t = bytes.slice(0, Math.max(1, Math.floor(r() * (bytes.length + 8))));
      for (let k = 0; k < 3; k++) t[Math.floor(r() * t.length)] = Math.floor(r() * 256);
      expect(refusal(() => decodeContribution(t))).not.toBe('accepted');
    }
  });
});

describe('manifests', () => {
  const manifest = {
    runId: 'run-1',
    window: 3,
    baseHash: fields.baseHash,
    accepted: [contentHash(Uint8Array.of(1)), contentHash(Uint8Array.of(2))],
    outerLr: 0.8,
    nextHash: modelHash(Float32Array.of(4)),
  };

  it('round-trip, keep the order of accepted ids, and store the lr as float32', () => {
    const m = signManifest(manifest, signer);
    const d = decodeManifest(m.bytes, 'run-1');
    expect(d.accepted).toEqual(manifest.accepted);
    expect(d.outerLr).toBe(Math.fround(0.8));
    expect(d.publicKey).toEqual(signer.publicKey);
  });

  it('refuse a bad lr, too many entries, and a contribution signature reused as a manifest', () => {
    expect(() => signManifest({ ...manifest, outerLr: 0 }, signer)).toThrow(ProtocolError);
    const m = signManifest(manifest, signer);
    const count = m.bytes.slice();
    new DataView(count.buffer).setUint32(4 + 5 + 4 + 32, 5000, true);
    expect(refusal(() => decodeManifest(count))).toBe('too-large');
    expect(refusal(() => decodeManifest(signContribution(fields, signer).bytes))).not.toBe('accepted');
  });
});

describe('wire messages', () => {
  it('round-trip every type and refuse unknown types and bad chunk numbers', () => {
    const id = contentHash(Uint8Array.of(3));
    const messages: WireMessage[] = [
      { type: 'announce', contribution: signContribution(fields, signer).bytes },
      { type: 'want', id },
      { type: 'payload', id, payload: Uint8Array.of(1, 2, 3) },
      { type: 'manifest', manifest: Uint8Array.of(9) },
      { type: 'checkpoint-want', window: 4, chunk: 2 },
      { type: 'checkpoint-chunk', window: 4, chunk: 2, chunks: 3, data: Uint8Array.of(5) },
    ];
    for (const m of messages) expect(decodeWire(encodeWire(m))).toEqual(m);
    expect(refusal(() => decodeWire(Uint8Array.of(0)))).toBe('unknown-type');
    expect(refusal(() => decodeWire(Uint8Array.of(99)))).toBe('unknown-type');
    expect(refusal(() => decodeWire(encodeWire({ type: 'checkpoint-chunk', window: 1, chunk: 3, chunks: 3, data: Uint8Array.of() })))).toBe('bad-field');
    expect(refusal(() => decodeWire(Uint8Array.of(2, 1, 2)))).toBe('truncated');
  });
});
