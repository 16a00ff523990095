// What a volunteer reads when STUN/TURN fails: refused and expired credentials are told
// apart by the expiry the signaling server gave; anything else is an unreachable server.
import { describe, expect, it } from 'vitest';
import { describeIceError } from '../../src/p2p/iceProblem';

const url = 'turn:10.0.0.2:3478?transport=udp';
const ice = (expiresAt: number | null): { iceServers: never[]; relayOnly: boolean; expiresAt: number | null } => ({
  iceServers: [],
  relayOnly: true,
  expiresAt,
});

describe('ICE problems in words', () => {
  it('tells a refused credential from an expired one, and both from an unreachable server', () => {
    const now = Date.UTC(2026, 10, 25, 12);
    expect(describeIceError({ url, code: 401, text: 'Unauthorized' }, ice(now + 60_000), now)).toMatchObject({
      kind: 'refused',
      message: expect.stringMatching(/turn:10\.0\.0\.2:3478.*401 Unauthorized.*secret does not match/) as unknown,
    });
    expect(describeIceError({ url, code: 401, text: 'Unauthorized' }, ice(now - 1), now)).toMatchObject({
      kind: 'expired',
      message: expect.stringMatching(/expired at 2026-11-25T11:59:59\.999Z.*clock/) as unknown,
    });
    expect(describeIceError({ url, code: 701, text: '' }, ice(null), now)).toMatchObject({
      kind: 'unreachable',
      message: expect.stringMatching(/could not be used \(701\)/) as unknown,
    });
    expect(describeIceError({ url: '', code: 401, text: '' }, undefined, now).kind).toBe('refused');
  });
});
