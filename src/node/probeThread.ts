// Starts the validator's loss probes in a worker thread and hands back ordinary LossProbes, so
// seconds of scoring never block the event loop that answers peers and the status API.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { RemoteProbes, type ProbeSpec } from '../validator/remoteProbe';

/**
 * The thread registers tsx's loader itself, then imports the TypeScript entry: a worker's
 * `--import` flag is not honoured on every Node 20, and tests run without tsx in the process.
 */
const TSX_API = tsxEsmApi();
const ENTRY = new URL('./probeThreadEntry.ts', import.meta.url).href;
const BOOT = `import(${JSON.stringify(TSX_API)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(ENTRY)}); })`;

/** tsx's ESM register API, found through its package.json (require.resolve would give the CommonJS build). */
function tsxEsmApi(): string {
  const pkgPath = createRequire(import.meta.url).resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { exports: Record<string, { import?: { default?: string } }> };
  const file = pkg.exports['./esm/api']?.import?.default;
  if (!file) throw new Error(`tsx at ${dirname(pkgPath)} has no ./esm/api export: reinstall the dependencies (npm ci)`);
  return pathToFileURL(join(dirname(pkgPath), file)).href;
}

export async function openProbeThread(spec: ProbeSpec): Promise<RemoteProbes> {
  const worker = new Worker(BOOT, { eval: true });
  // A thread that has finished its work must not keep the process alive on its own.
  worker.unref();
  try {
    return await RemoteProbes.open(
      {
        post: (m, transfer) => worker.postMessage(m, transfer),
        onMessage: (h) => worker.on('message', h),
        onExit: (h) => {
          worker.on('error', (err) => h(`the loss probe thread failed: ${err.message}`));
          worker.on('exit', (code) => h(`the loss probe thread exited (code ${code})`));
        },
        close: () => void worker.terminate(),
      },
      spec,
    );
  } catch (err) {
    await worker.terminate();
    throw err;
  }
}
