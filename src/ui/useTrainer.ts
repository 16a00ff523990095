// React hook around the trainer worker: starts it once, folds its events into state, and
// exposes start/pause/sample. The worker owns the GPU; this only mirrors what it reports.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { PresetName } from '../model/config';
import type { ExportFormat, PresetInfo, TrainerCommand, TrainerEvent, TrainerState } from '../train/workerProtocol';

export interface LossPoint {
  step: number;
  loss: number;
}

export interface TrainerView {
  state: TrainerState;
  adapter?: string;
  presets: PresetInfo[];
  preset?: PresetName;
  progress?: Extract<TrainerEvent, { type: 'progress' }>;
  train: LossPoint[];
  val: LossPoint[];
  checkpoint?: { step: number; hash: string };
  resumed?: { step: number; hash: string };
  error?: Extract<TrainerEvent, { type: 'error' }>;
  sampleOutput?: { text: string; done: boolean };
  /** The last exported file (ONNX or a zipped Hugging Face checkpoint), as an object URL the page offers for download. */
  exported?: { url: string; fileName: string; step: number; bytes: number };
}

export function useTrainer(): TrainerView & {
  start(preset: PresetName): void;
  pause(): void;
  exportModel(format: ExportFormat): void;
  sample(prompt: string, count: number, temperature: number, topK: number): void;
} {
  const worker = useRef<Worker | null>(null);
  const sampleId = useRef(0);
  const [view, setView] = useState<TrainerView>({ state: 'starting', presets: [], train: [], val: [] });

  useEffect(() => {
    const w = new Worker(new URL('../train/trainerWorker.ts', import.meta.url), { type: 'module' });
    worker.current = w;
    let exportedUrl: string | undefined;
    w.onmessage = (e: MessageEvent<TrainerEvent>) => {
      const event = e.data;
      if (event.type === 'export') {
        // One file at a time: release the previous object URL before making the next.
        if (exportedUrl) URL.revokeObjectURL(exportedUrl);
        const url = URL.createObjectURL(new Blob([event.bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
        exportedUrl = url;
        // Start the download at once, as any "Export" button does; the link stays for a retry.
        const a = document.createElement('a');
        a.href = url;
        a.download = event.fileName;
        a.click();
        setView((v) => ({ ...v, exported: { url, fileName: event.fileName, step: event.step, bytes: event.bytes.length } }));
      } else setView((v) => reduce(v, event, sampleId.current));
    };
    w.onerror = (e) =>
      setView((v) => ({
        ...v,
        state: 'error',
        error: { type: 'error', title: 'The trainer could not start', detail: e.message || 'the worker script failed to load', actions: ['Reload the page.'] },
      }));
    return () => {
      if (exportedUrl) URL.revokeObjectURL(exportedUrl);
      w.terminate();
      worker.current = null;
    };
  }, []);

  const send = useCallback((cmd: TrainerCommand) => worker.current?.postMessage(cmd), []);
  return {
    ...view,
    start: (preset) => {
      setView((v) =>
        v.preset === preset ? { ...v, error: undefined } : { ...v, error: undefined, train: [], val: [], checkpoint: undefined, resumed: undefined },
      );
      send({ type: 'start', preset, resume: true });
    },
    pause: () => send({ type: 'pause' }),
    exportModel: (format) => send({ type: 'export', format }),
    sample: (prompt, count, temperature, topK) => {
      sampleId.current += 1;
      setView((v) => ({ ...v, sampleOutput: { text: '', done: false } }));
      send({ type: 'sample', id: sampleId.current, prompt, count, temperature, topK });
    },
  };
}

function reduce(v: TrainerView, e: TrainerEvent, currentSample: number): TrainerView {
  switch (e.type) {
    case 'ready':
      return { ...v, adapter: e.adapter, presets: e.presets };
    case 'state':
      return { ...v, state: e.state, preset: e.preset ?? v.preset };
    case 'progress':
      return { ...v, progress: e };
    case 'loss':
      return e.train !== undefined
        ? { ...v, train: [...v.train, { step: e.step, loss: e.train }] }
        : { ...v, val: [...v.val, { step: e.step, loss: e.val ?? NaN }] };
    case 'checkpoint':
      return { ...v, checkpoint: { step: e.step, hash: e.hash } };
    case 'resumed':
      return { ...v, resumed: { step: e.step, hash: e.hash } };
    case 'sample':
      return e.id === currentSample ? { ...v, sampleOutput: { text: e.text, done: e.done } } : v;
    case 'export':
      return v; // handled in onmessage: it makes an object URL, which a pure reducer must not
    case 'error':
      return { ...v, error: e };
  }
}
