// The validator's loss-probe worker thread: Dawn (or the CPU reference) measures losses here,
// off the thread that runs the mesh, the manifests and the status API.
import { parentPort } from 'node:worker_threads';
import { nodeGpu } from '../gpu/nodeGpu';
import { serveLossProbes } from '../validator/remoteProbe';

const port = parentPort;
if (!port) throw new Error('probeThreadEntry.ts runs as a worker thread (see probeThread.ts)');
serveLossProbes(
  {
    post: (m, transfer) => port.postMessage(m, transfer),
    onMessage: (h) => port.on('message', h),
    close: () => port.close(),
  },
  nodeGpu,
);
