// A validator in this tab, for operators: the same ValidatorNode as `tessera validator`, with
// the tab's WebGPU (or the CPU reference) scoring; its code (startValidator.ts) loads on start.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { RunConfig } from '../protocol/runConfig';
import type { ValidatorRoleView } from './validatorRoleView';

export type { ValidatedWindow, ValidatorRoleView } from './validatorRoleView';

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export function useValidatorRole(): ValidatorRoleView & { start(run: RunConfig, signalUrl: string, secret: string): void; stop(): void } {
  const [view, setView] = useState<ValidatorRoleView>({ status: 'idle', windows: [] });
  const running = useRef<(() => void) | null>(null);
  useEffect(() => () => running.current?.(), []);

  const start = useCallback((run: RunConfig, signalUrl: string, secret: string) => {
    if (running.current) return;
    setView({ status: 'starting', windows: [] });
    import('./startValidator')
      .then((m) => m.startValidator(run, signalUrl, secret, setView))
      .then(
        (stop) => (running.current = stop),
        (err: unknown) => setView((v) => ({ ...v, status: 'error', error: message(err) })),
      );
  }, []);

  const stop = useCallback(() => {
    running.current?.();
    running.current = null;
    setView((v) => ({ ...v, status: 'idle' }));
  }, []);

  return { ...view, start, stop };
}
