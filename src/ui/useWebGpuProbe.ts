// React hook: probes WebGPU once on mount and returns the capability report or the
// plain-words reason this visitor cannot train.
import { useEffect, useState } from 'react';
import type { CapabilityReport, Explanation } from '../gpu/capabilities';
import { explainUnavailable } from '../gpu/capabilities';
import { GpuUnavailableError, probeWebGpu } from '../gpu/device';

export type ProbeState = { status: 'checking' } | { status: 'ready'; report: CapabilityReport } | { status: 'unavailable'; explanation: Explanation };

export function useWebGpuProbe(): ProbeState {
  const [state, setState] = useState<ProbeState>({ status: 'checking' });
  useEffect(() => {
    let live = true;
    probeWebGpu()
      .then((report) => live && setState({ status: 'ready', report }))
      .catch((err: unknown) => {
        if (!live) return;
        const explanation = err instanceof GpuUnavailableError ? err.explanation : explainUnavailable('adapter-error', String(err));
        setState({ status: 'unavailable', explanation });
      });
    return () => {
      live = false;
    };
  }, []);
  return state;
}
