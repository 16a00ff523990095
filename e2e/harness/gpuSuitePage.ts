// Tab side of the kernel-suite harness: runs the suite here, then in a dedicated worker,
// and publishes both result lists on window.__gpuSuite for the Playwright spec.
import { runKernelSuite, type CaseResult } from './runSuite';

export interface SuiteReport {
  tab: CaseResult[] | { error: string };
  worker: CaseResult[] | { error: string };
}

function inWorker(): Promise<CaseResult[] | { error: string }> {
  const worker = new Worker(new URL('./gpuSuiteWorker.ts', import.meta.url), { type: 'module' });
  return new Promise((resolve) => {
    worker.onmessage = (e: MessageEvent<{ results?: CaseResult[]; error?: string }>) => {
      worker.terminate();
      resolve(e.data.results ?? { error: e.data.error ?? 'no result' });
    };
    worker.onerror = (e) => resolve({ error: `worker failed: ${e.message}` });
  });
}

function render(where: string, results: CaseResult[] | { error: string }): void {
  const list = document.getElementById('results');
  const items = Array.isArray(results) ? results : [{ name: 'suite', ok: false, error: results.error, ms: 0 }];
  for (const r of items) {
    const li = document.createElement('li');
    li.textContent = `[${where}] ${r.ok ? 'PASS' : 'FAIL'} ${r.name}${r.error ? `: ${r.error}` : ''}`;
    list?.append(li);
  }
}

async function main(): Promise<void> {
  // Both at once: each has its own device, and the worker's JavaScript runs beside the tab's.
  const [tab, worker] = await Promise.all([runKernelSuite().catch((err: unknown) => ({ error: String(err) })), inWorker()]);
  render('tab', tab);
  render('worker', worker);
  (window as unknown as { __gpuSuite: SuiteReport }).__gpuSuite = { tab, worker };
}

void main();
