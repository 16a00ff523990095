// One WebRTC data channel to one peer (simple-peer; the browser's WebRTC or @roamhq/wrtc in
// Node) carrying whole binary messages: framed, sent with backpressure, reassembled under caps.
import './nodeGlobals';
import SimplePeer from 'simple-peer';
import { encodeFrames, FramingError, Reassembler, type ReassemblerLimits } from './framing';

export type SignalData = SimplePeer.SignalData;
export type WrtcImplementation = SimplePeer.Options['wrtc'];

export interface PeerLinkOptions {
  initiator: boolean;
  /** WebRTC for Node (@roamhq/wrtc); browsers use their own. */
  wrtc?: WrtcImplementation;
  /** STUN/TURN servers; none by default (a LAN or the test namespace needs none). */
  iceServers?: RTCIceServer[];
  /** 'relay': gather TURN candidates only (no host or server-reflexive addresses). */
  iceTransportPolicy?: RTCIceTransportPolicy;
  limits?: Partial<ReassemblerLimits>;
}

export const DEFAULT_LINK_LIMITS: ReassemblerLimits = { maxMessageBytes: 64 * 1024 * 1024, maxPending: 4 };

export interface PeerLink {
  /** Resolves when the data channel opens; rejects if the link fails first. */
  readonly connected: Promise<void>;
  /** Feed signaling data received from the other side. */
  signal(data: SignalData): void;
  onSignal(listener: (data: SignalData) => void): void;
  onMessage(listener: (message: Uint8Array) => void): void;
  /** Transport failures and protocol violations; the link is closed after either. */
  onError(listener: (error: Error) => void): void;
  onClose(listener: () => void): void;
  /** A STUN/TURN server failed (e.g. 401: TURN refused the credentials); the link may still connect another way. */
  onIceError(listener: (error: IceServerError) => void): void;
  send(message: Uint8Array): Promise<void>;
  close(): void;
}

export interface IceServerError {
  url: string;
  code: number;
  text: string;
}

/** The fields of an RTCPeerConnectionIceErrorEvent used here (Node's wrtc may not fire it). */
interface IceErrorEventLike {
  url?: string;
  errorCode?: number;
  errorText?: string;
}

export function createPeerLink(options: PeerLinkOptions): PeerLink {
  const config: RTCConfiguration = {
    iceServers: options.iceServers ?? [],
    ...(options.iceTransportPolicy ? { iceTransportPolicy: options.iceTransportPolicy } : {}),
  };
  const peer = new SimplePeer({ initiator: options.initiator, wrtc: options.wrtc, config });
  const iceErrorListeners: ((e: IceServerError) => void)[] = [];
  // simple-peer does not forward icecandidateerror; its RTCPeerConnection is `_pc`.
  const pc = (peer as unknown as { _pc?: EventTarget })._pc;
  pc?.addEventListener?.('icecandidateerror', (ev) => {
    const e = ev as unknown as IceErrorEventLike;
    const error = { url: String(e.url ?? ''), code: Number(e.errorCode ?? 0), text: String(e.errorText ?? '') };
    for (const listener of iceErrorListeners) listener(error);
  });
  const reassembler = new Reassembler({ ...DEFAULT_LINK_LIMITS, ...options.limits });
  const messageListeners: ((m: Uint8Array) => void)[] = [];
  const errorListeners: ((e: Error) => void)[] = [];
  let nextMessageId = 1;
  let closed = false;

  const fail = (error: Error): void => {
    for (const listener of errorListeners) listener(error);
    close();
  };
  const close = (): void => {
    if (closed) return;
    closed = true;
    reassembler.clear();
    peer.destroy();
  };

  const connected = new Promise<void>((resolve, reject) => {
    peer.once('connect', () => resolve());
    peer.once('close', () => reject(new Error('peer link closed before it connected')));
    peer.once('error', (err: Error) => reject(err));
  });
  connected.catch(() => undefined); // Callers may never await it; do not leak an unhandled rejection.

  peer.on('data', (chunk: Uint8Array) => {
    try {
      const message = reassembler.push(chunk);
      if (message) for (const listener of messageListeners) listener(message);
    } catch (err) {
      // A peer that breaks framing is not trusted for anything else on this link.
      fail(err instanceof FramingError ? err : new Error(String(err)));
    }
  });
  peer.on('error', (err: Error) => fail(err));
  peer.on('close', () => {
    closed = true;
  });

  async function send(message: Uint8Array): Promise<void> {
    await connected;
    const id = nextMessageId++;
    for (const frame of encodeFrames(message, id)) {
      if (closed) throw new Error('peer link closed while sending');
      // write() returns false once the channel's buffer passes its high-water mark:
      // wait for drain instead of letting the browser's send queue overflow.
      if (!peer.write(frame)) await waitForDrain(peer);
    }
  }

  return {
    connected,
    signal: (data) => peer.signal(data),
    onSignal: (listener) => void peer.on('signal', listener),
    onMessage: (listener) => void messageListeners.push(listener),
    onError: (listener) => void errorListeners.push(listener),
    onClose: (listener) => void peer.on('close', listener),
    onIceError: (listener) => void iceErrorListeners.push(listener),
    send,
    close,
  };
}

function waitForDrain(peer: SimplePeer.Instance): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = (): void => {
      peer.off('close', onClose);
      resolve();
    };
    const onClose = (): void => {
      peer.off('drain', onDrain);
      reject(new Error('peer link closed while sending'));
    };
    peer.once('drain', onDrain);
    peer.once('close', onClose);
  });
}
