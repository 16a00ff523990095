// Fixed data-page vectors, computed independently (Python hashlib, same derivation) and
// shared by the Node test and the Chromium spec: every runtime must give these offsets.
import type { AssignedPagesRequest } from '../../src/train/dataPages';

export const PAGE_VECTORS: { request: AssignedPagesRequest; offsets: number[] }[] = [
  {
    request: {
      runSeed: 'tessera-demo',
      peerAddress: '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY',
      window: 0,
      count: 6,
      seqLen: 256,
      corpusLength: 1003854,
    },
    offsets: [436133, 909791, 956091, 743756, 974182, 289440],
  },
  {
    request: { runSeed: 'tessera-demo', peerAddress: 'ephemeral:ab12', window: 41, count: 5, seqLen: 64, corpusLength: 111540 },
    offsets: [32407, 105008, 34665, 98351, 14476],
  },
];
