// Shared ending of every bench page: runs the page's work and reports its outcome (or error)
// on window.__benchDone, which the Node driver waits for.
export interface BenchDone {
  ok: boolean;
  error?: string;
}

export function finishPage(work: () => Promise<boolean>): void {
  const done = (result: BenchDone): void => {
    (window as unknown as { __benchDone: BenchDone }).__benchDone = result;
  };
  work().then(
    (ok) => done({ ok }),
    (err: unknown) => done({ ok: false, error: err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err) }),
  );
}
