// Framing from untrusted peers: valid messages round-trip, every malformed frame is a
// typed FramingError that leaves no half-built message behind.
import { describe, expect, it } from 'vitest';
import { encodeFrames, FRAME_HEADER_BYTES, FRAME_PAYLOAD_BYTES, FramingError, Reassembler } from '../../src/p2p/framing';
import { randomBytes, seededRandom } from '../support/random';

const limits = { maxMessageBytes: 1 << 20, maxPending: 2 };

function framesOf(message: Uint8Array, id = 1): Uint8Array[] {
  return [...encodeFrames(message, id)];
}

/** Byte equality without a deep-equal walk over every index (slow for 300 kB). */
function expectSameBytes(got: Uint8Array | null | undefined, want: Uint8Array): void {
  expect(got).not.toBeNull();
  expect(Buffer.compare(Buffer.from(got as Uint8Array), Buffer.from(want))).toBe(0);
}

function codeOf(work: () => unknown): string {
  try {
    work();
  } catch (err) {
    expect(err).toBeInstanceOf(FramingError);
    return (err as FramingError).code;
  }
  return 'no error';
}

describe('framing', () => {
  it('round-trips empty, one-frame, exact-boundary and multi-frame messages', () => {
    for (const size of [0, 1, FRAME_PAYLOAD_BYTES, FRAME_PAYLOAD_BYTES + 1, 300_000]) {
      const message = randomBytes(size, size);
      const r = new Reassembler(limits);
      const frames = framesOf(message);
      let out: Uint8Array | null = null;
      for (const f of frames) out = r.push(f);
      expectSameBytes(out, message);
      expect(r.pendingCount).toBe(0);
    }
  });

  it('reassembles frames that arrive out of order and interleaved with another message', () => {
    const a = randomBytes(200_000, 1);
    const b = randomBytes(150_000, 2);
    const frames = [...framesOf(a, 10), ...framesOf(b, 11)];
    const shuffle = seededRandom(3);
    frames.sort(() => shuffle() - 0.5);
    const r = new Reassembler(limits);
    const done = frames.map((f) => r.push(f)).filter((m): m is Uint8Array => m !== null);
    expect(done).toHaveLength(2);
    expectSameBytes(
      done.find((m) => m.length === a.length),
      a,
    );
    expectSameBytes(
      done.find((m) => m.length === b.length),
      b,
    );
  });

  it('refuses a message over the cap before allocating it', () => {
    const [frame] = framesOf(new Uint8Array(10));
    new DataView(frame.buffer).setUint32(16, 2 ** 31); // claims 2 GiB
    expect(codeOf(() => new Reassembler(limits).push(frame))).toBe('too-large');
  });

  it('types every malformed frame', () => {
    const frames = framesOf(randomBytes(100_000, 5));
    const r = () => new Reassembler(limits);
    expect(codeOf(() => r().push(new Uint8Array(FRAME_HEADER_BYTES - 1)))).toBe('short-frame');
    const badMagic = frames[0].slice();
    badMagic[0] ^= 0xff;
    expect(codeOf(() => r().push(badMagic))).toBe('bad-magic');
    const badVersion = frames[0].slice();
    badVersion[2] = 9;
    expect(codeOf(() => r().push(badVersion))).toBe('bad-version');
    const badIndex = frames[0].slice();
    new DataView(badIndex.buffer).setUint32(8, 7);
    expect(codeOf(() => r().push(badIndex))).toBe('bad-index');
    const badCount = frames[0].slice();
    new DataView(badCount.buffer).setUint32(12, 5);
    expect(codeOf(() => r().push(badCount))).toBe('inconsistent');
    expect(codeOf(() => r().push(frames[0].subarray(0, 1000)))).toBe('bad-length');
    const twice = r();
    twice.push(frames[0]);
    expect(codeOf(() => twice.push(frames[0]))).toBe('duplicate');
    expect(twice.pendingCount).toBe(0);
  });

  it('caps messages in flight', () => {
    const r = new Reassembler(limits);
    r.push(framesOf(randomBytes(100_000, 1), 1)[0]);
    r.push(framesOf(randomBytes(100_000, 2), 2)[0]);
    expect(codeOf(() => r.push(framesOf(randomBytes(100_000, 3), 3)[0]))).toBe('too-many-pending');
  });
});
