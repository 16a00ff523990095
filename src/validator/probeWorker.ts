// A tab validator's loss-probe Web Worker: WebGPU (or the CPU reference) measures losses here,
// so scoring never freezes the page that holds the validator's mesh and manifests.
import { serveLossProbes, type ProbeReply, type ProbeRequest } from './remoteProbe';

const scope = self as unknown as {
  postMessage(m: ProbeReply | ProbeRequest, transfer?: Transferable[]): void;
  addEventListener(type: 'message', h: (e: MessageEvent) => void): void;
  close(): void;
};
serveLossProbes(
  {
    post: (m, transfer) => scope.postMessage(m, transfer ?? []),
    onMessage: (h) => scope.addEventListener('message', (e) => h(e.data)),
    close: () => scope.close(),
  },
  () => (typeof navigator !== 'undefined' ? navigator.gpu : undefined),
);
