// The Dashboard's "Try the model": any viewer, with or without WebGPU, loads the swarm's latest
// verified model into onnxruntime-web (wasm) and generates text from a prompt, window by window.
import { useEffect, useRef, useState, type ReactNode } from 'react';
import type { SwarmModel } from './swarmModel';

type Load =
  | { state: 'idle' }
  | { state: 'loading'; received: number; total: number }
  | { state: 'ready'; model: SwarmModel }
  | { state: 'error'; why: string; model?: SwarmModel };

const MB = (bytes: number): string => `${(bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0)} MB`;
const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** `window`, where known, is the validator's current one: a newer model than the loaded one is offered. */
export function TryModel({ window }: { window?: number }): ReactNode {
  const [load, setLoad] = useState<Load>({ state: 'idle' });
  const [prompt, setPrompt] = useState('ROMEO:');
  const [output, setOutput] = useState<{ prompt: string; text: string; done: boolean }>();
  const run = useRef(0);
  useEffect(
    () => () => {
      run.current++; // stops a generation when the page goes
    },
    [],
  );

  const open = async (): Promise<void> => {
    const previous = load.state === 'ready' ? load.model : undefined;
    setLoad({ state: 'loading', received: 0, total: 0 });
    try {
      const { loadSwarmModel } = await import('./swarmModel');
      const model = await loadSwarmModel((received, total) => setLoad({ state: 'loading', received, total }));
      await previous?.session.release();
      setLoad({ state: 'ready', model });
    } catch (err) {
      setLoad({ state: 'error', why: message(err), model: previous });
    }
  };

  const model = load.state === 'ready' ? load.model : undefined;
  const generateText = async (m: SwarmModel): Promise<void> => {
    const id = ++run.current;
    const asked = prompt;
    setOutput({ prompt: asked, text: '', done: false });
    try {
      const { generate } = await import('./swarmModel');
      // GPT-2's vocabulary makes each token cost more; fewer tokens keep the wait short.
      const count = m.tokenizer.kind === 'gpt2' ? 40 : 200;
      const show = (text: string, done: boolean): void => {
        if (id === run.current) setOutput({ prompt: asked, text, done });
      };
      show(
        await generate(
          m,
          asked,
          count,
          { temperature: 0.8, topK: 40, seed: id },
          (t) => show(t, false),
          () => id !== run.current,
        ),
        true,
      );
    } catch (err) {
      if (id === run.current) setOutput({ prompt: '', text: `Generation failed: ${message(err)}`, done: true });
    }
  };

  return (
    <section className="card" aria-labelledby="try-title" data-testid="try-model" data-state={load.state} data-window={model?.window ?? ''}>
      <h2 id="try-title">Try the model</h2>
      <p className="note">
        Generate text from the swarm’s latest verified model, the one every peer agrees on, in this browser with onnxruntime-web (WebAssembly; no GPU needed).
      </p>
      {load.state === 'idle' && (
        <button type="button" onClick={() => void open()} data-testid="try-load">
          Load the model
        </button>
      )}
      {load.state === 'loading' && (
        <p role="status">
          Downloading the model… {MB(load.received)}
          {load.total ? ` of ${MB(load.total)}` : ''} <progress max={load.total || undefined} value={load.received} />
        </p>
      )}
      {load.state === 'error' && (
        <p className="note bad" role="alert" data-testid="try-error">
          The model could not be loaded: {load.why}{' '}
          <button type="button" onClick={() => void open()}>
            Retry
          </button>
        </p>
      )}
      {model && (
        <>
          <p role="status" data-testid="try-loaded">
            Model of window {model.window} (θ {model.hash.slice(0, 12)}…), {MB(model.bytes)}, {model.tokenizer.kind} tokenizer
            {window !== undefined && window > model.window && (
              <>
                {' '}
                · window {window} is newer{' '}
                <button type="button" onClick={() => void open()} data-testid="try-reload">
                  Load it
                </button>
              </>
            )}
          </p>
          <div className="controls">
            <label>
              Prompt <input value={prompt} onChange={(e) => setPrompt(e.target.value)} data-testid="try-prompt" />
            </label>
            <button type="button" onClick={() => void generateText(model)} disabled={output?.done === false} data-testid="try-generate">
              Generate
            </button>
          </div>
          {output && (
            <pre className="sample-output" data-testid="try-output" data-done={output.done ? 'true' : 'false'} aria-live="polite">
              {output.prompt}
              {output.text}
            </pre>
          )}
        </>
      )}
    </section>
  );
}
