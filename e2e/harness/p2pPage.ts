// A page that opens one PeerLink with the browser's WebRTC. The Playwright spec plays the
// signaling server, relaying each side's signals through window.__p2p.
import { createPeerLink, type PeerLink, type SignalData } from '../../src/p2p/peerLink';
import { randomBytes } from '../../test/support/random';

declare global {
  interface Window {
    __p2p: P2pHarness;
    /** Installed by the spec with page.exposeFunction. */
    relaySignal(json: string): Promise<void>;
  }
}

interface P2pHarness {
  start(initiator: boolean): void;
  signal(json: string): void;
  connected(): Promise<void>;
  echoMessages(): void;
  /** Sends seeded random bytes, waits for the echo, and compares them byte for byte. */
  roundTrip(size: number, seed: number): Promise<{ equal: boolean; sentSha256: string; echoedSha256: string; echoedBytes: number }>;
  receivedSha256(): Promise<string[]>;
}

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

let link: PeerLink | undefined;
const received: Uint8Array[] = [];
const waiting: ((m: Uint8Array) => void)[] = [];

function need(): PeerLink {
  if (!link) throw new Error('start() first');
  return link;
}

window.__p2p = {
  start(initiator) {
    link = createPeerLink({ initiator });
    link.onSignal((s) => void window.relaySignal(JSON.stringify(s)));
    link.onMessage((m) => {
      received.push(m);
      waiting.shift()?.(m);
    });
  },
  signal: (json) => need().signal(JSON.parse(json) as SignalData),
  connected: () => need().connected,
  echoMessages() {
    need().onMessage((m) => void need().send(m));
  },
  async roundTrip(size, seed) {
    const message = randomBytes(size, seed);
    const echoed = new Promise<Uint8Array>((resolve) => waiting.push(resolve));
    await need().send(message);
    const back = await echoed;
    const equal = back.byteLength === message.byteLength && back.every((b, i) => b === message[i]);
    return { equal, sentSha256: await sha256(message), echoedSha256: await sha256(back), echoedBytes: back.byteLength };
  },
  receivedSha256: () => Promise.all(received.map(sha256)),
};
