// simple-peer's stream dependencies call process.nextTick at run time; browsers have no
// `process`. Install the little they use, and nothing where Node's real one exists.

interface ProcessShim {
  env: Record<string, string | undefined>;
  browser: boolean;
  version: string;
  nextTick(fn: (...args: unknown[]) => void, ...args: unknown[]): void;
}

const scope = globalThis as unknown as { process?: ProcessShim };
if (typeof scope.process === 'undefined') {
  scope.process = {
    env: {},
    browser: true,
    version: '',
    nextTick: (fn, ...args) => queueMicrotask(() => fn(...args)),
  };
}
