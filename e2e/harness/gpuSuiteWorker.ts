// Worker side of the kernel-suite harness: proves the GPU layer opens a device in a worker.
import { runKernelSuite } from './runSuite';

const scope = self as unknown as { postMessage(message: unknown): void };
runKernelSuite().then(
  (results) => scope.postMessage({ results }),
  (err: unknown) => scope.postMessage({ error: err instanceof Error ? err.message : String(err) }),
);
