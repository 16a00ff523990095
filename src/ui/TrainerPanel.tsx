// The volunteer's controls: preset, Start/Pause, progress of the current window, speed,
// the live loss chart, and a box that samples text from the model being trained.
import { useState, type FormEvent, type ReactNode } from 'react';
import type { PresetName } from '../model/config';
import { formatLimit } from '../gpu/capabilities';
import { LossChart } from './LossChart';
import { useTrainer } from './useTrainer';

const STATE_WORDS: Record<string, string> = {
  starting: 'Opening the GPU…',
  idle: 'Ready',
  loading: 'Loading the corpus and the model…',
  training: 'Training',
  paused: 'Paused (checkpoint saved)',
  error: 'Stopped',
};

export function TrainerPanel(): ReactNode {
  const t = useTrainer();
  const canExport = Boolean(t.checkpoint ?? t.resumed) || t.state === 'training';
  const [preset, setPreset] = useState<PresetName>('tiny');
  const running = t.state === 'training' || t.state === 'loading';
  const canStart = t.state === 'idle' || t.state === 'paused' || t.state === 'error';
  const lastTrain = t.train[t.train.length - 1];
  const lastVal = t.val[t.val.length - 1];

  return (
    <section className="card" aria-labelledby="trainer-title" data-testid="trainer" data-state={t.state}>
      <h2 id="trainer-title">Train on this GPU</h2>
      <div className="controls">
        <label>
          Model{' '}
          <select value={preset} onChange={(e) => setPreset(e.target.value as PresetName)} disabled={running} data-testid="preset">
            {t.presets.map((p) => (
              <option key={p.name} value={p.name} disabled={p.problem !== undefined}>
                {p.name} — {(p.parameters / 1e6).toFixed(2)}M params, {formatLimit(p.memoryBytes, 'bytes')} GPU memory
                {p.problem ? ' (too large for this GPU)' : ''}
              </option>
            ))}
          </select>
        </label>
        {running ? (
          <button type="button" onClick={t.pause} data-testid="pause">
            Pause
          </button>
        ) : (
          <button type="button" onClick={() => t.start(preset)} disabled={!canStart} data-testid="start">
            {t.checkpoint || t.resumed ? 'Resume' : 'Start'}
          </button>
        )}
        <span role="status" data-testid="trainer-state">
          {STATE_WORDS[t.state]}
          {t.preset ? ` · ${t.preset}` : ''}
        </span>
      </div>
      {t.adapter && <p className="note">GPU: {t.adapter}</p>}
      {t.error && (
        <div className="card card-warning" role="alert" data-testid="trainer-error">
          <h3>{t.error.title}</h3>
          <p>{t.error.detail}</p>
          <ul>
            {t.error.actions.map((a) => (
              <li key={a}>{a}</li>
            ))}
          </ul>
        </div>
      )}
      {t.resumed && (
        <p className="note" data-testid="resumed" data-step={t.resumed.step} data-hash={t.resumed.hash}>
          Resumed from step {t.resumed.step} (checkpoint {t.resumed.hash.slice(0, 12)}…).
        </p>
      )}
      {t.progress && (
        <div className="progress-row">
          <label htmlFor="window-progress">
            Window: step {t.progress.windowDone} of {t.progress.windowSize}
          </label>
          <progress id="window-progress" max={t.progress.windowSize} value={t.progress.windowDone} />
          <span data-testid="speed">
            {Math.round(t.progress.tokensPerSecond).toLocaleString('en-US')} tokens/s · global step {t.progress.step}
          </span>
        </div>
      )}
      <p data-testid="latest-loss">
        Loss: {lastTrain ? lastTrain.loss.toFixed(3) : '–'} (train) · {lastVal ? lastVal.loss.toFixed(3) : '–'} (validation)
      </p>
      {t.checkpoint && (
        <p className="note" data-testid="checkpoint" data-step={t.checkpoint.step} data-hash={t.checkpoint.hash}>
          Last checkpoint: step {t.checkpoint.step} ({t.checkpoint.hash.slice(0, 12)}…)
        </p>
      )}
      <LossChart train={t.train} val={t.val} />
      <div className="controls">
        <button type="button" onClick={() => t.exportModel('onnx')} disabled={!canExport} data-testid="export-onnx">
          Export model (ONNX)
        </button>
        <button type="button" onClick={() => t.exportModel('hf')} disabled={!canExport} data-testid="export-hf">
          Export for Hugging Face (.zip)
        </button>
        {t.exported && (
          <a href={t.exported.url} download={t.exported.fileName} data-testid="onnx-download" data-step={t.exported.step}>
            Download {t.exported.fileName} ({formatLimit(t.exported.bytes, 'bytes')})
          </a>
        )}
      </div>
      <p className="note">
        The ONNX file runs in onnxruntime (web, Node or Python): input <code>tokens</code> int64 [batch, seq], output <code>logits</code> [batch, seq, vocab];
        the alphabet is in its metadata. The Hugging Face zip holds <code>model.safetensors</code>, <code>config.json</code> and a model card: unzip it and load
        the folder with <code>GPT2LMHeadModel.from_pretrained</code>.
      </p>
      <SampleBox onSample={t.sample} sample={t.sampleOutput} />
    </section>
  );
}

function SampleBox(props: {
  onSample(prompt: string, count: number, temperature: number, topK: number): void;
  sample?: { text: string; done: boolean };
}): ReactNode {
  const [prompt, setPrompt] = useState('ROMEO:');
  const [temperature, setTemperature] = useState(0.8);
  const [topK, setTopK] = useState(20);
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    props.onSample(prompt, 200, temperature, topK);
  };
  return (
    <form className="sample" onSubmit={submit} aria-labelledby="sample-title">
      <h3 id="sample-title">Sample from the model</h3>
      <label>
        Prompt <textarea value={prompt} onChange={(e) => setPrompt(e.target.value)} rows={2} data-testid="prompt" />
      </label>
      <div className="controls">
        <label>
          Temperature <input type="number" min={0.05} max={2} step={0.05} value={temperature} onChange={(e) => setTemperature(Number(e.target.value))} />
        </label>
        <label>
          Top-k <input type="number" min={0} max={100} step={1} value={topK} onChange={(e) => setTopK(Number(e.target.value))} />
        </label>
        <button type="submit" data-testid="generate">
          Generate
        </button>
      </div>
      <pre className="sample-output" aria-live="polite" data-testid="sample-output" data-done={props.sample?.done ?? false}>
        {props.sample ? `${prompt}${props.sample.text}` : ''}
      </pre>
    </form>
  );
}
