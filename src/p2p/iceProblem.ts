// Plain words for a STUN/TURN failure a link reported, so a volunteer (or the operator they
// write to) learns whether the TURN credential was refused, expired, or the server unreachable.
import type { IceServerError } from './peerLink';
import type { IceConfig } from './signalingProtocol';

export interface IceProblem {
  kind: 'expired' | 'refused' | 'unreachable';
  message: string;
}

/** 401 is TURN's "Unauthorized"; 701 is the browser's "could not reach the server". */
export function describeIceError(e: IceServerError, ice: IceConfig | undefined, now: number): IceProblem {
  const url = e.url || 'the STUN/TURN server';
  const detail = `${e.code}${e.text ? ` ${e.text}` : ''}`;
  if (e.code === 401) {
    if (ice?.expiresAt !== undefined && ice.expiresAt !== null && ice.expiresAt <= now) {
      return {
        kind: 'expired',
        message: `The TURN server ${url} refused this tab's credential: it expired at ${new Date(ice.expiresAt).toISOString()} (${detail}). The signaling server's clock may be wrong; reload to get a new one.`,
      };
    }
    return {
      kind: 'refused',
      message: `The TURN server ${url} refused this tab's credential (${detail}): the signaling server's TURN secret does not match the TURN server's (coturn static-auth-secret).`,
    };
  }
  return { kind: 'unreachable', message: `The STUN/TURN server ${url} could not be used (${detail}): check that it runs and that its ports are open.` };
}
