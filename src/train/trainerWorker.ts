// The trainer worker: owns the GPU device, trains the chosen preset on the built-in corpus in
// windows of inner steps, checkpoints to IndexedDB, samples text, and reports everything to
// the page as typed events. The page only renders.
import { DEFAULT_ADAMW } from '../model/optimizer';
import { explainUnavailable } from '../gpu/capabilities';
import { gptConfig, PRESETS, type PresetName } from '../model/config';
import { GpuUnavailableError, requestGpuDevice, type GpuContext } from '../gpu/device';
import { GpuError } from '../gpu/errors';
import { initParams } from '../model/init';
import { estimateMemory, limitProblems } from '../gpu/memoryPlan';
import { GpuGpt } from '../gpu/model';
import { seededRandom } from '../model/random';
import { GpuSampler } from '../gpu/sampler';
import { CheckpointError, decodeCheckpoint, encodeCheckpoint } from './checkpoint';
import { loadStoredCheckpoint, storeCheckpoint } from './checkpointStore';
import { randomPages } from './dataPages';
import { runInnerLoop } from './innerLoop';
import { exportHuggingFace } from './hfExport';
import { exportOnnx } from './onnxExport';
import { zipStore } from './zipStore';
import { charCorpus, encodePrompt, type EncodedCorpus } from './tokenizer';
import type { ExportFormat, PresetInfo, TrainerCommand, TrainerEvent } from './workerProtocol';

const CORPUS_URL = '/data/tinyshakespeare.txt';
/** Browser-sized microbatches: a tab shares the GPU with everything else on screen. */
const PAGE_SHAPES: Record<PresetName, { batchSize: number; seqLen: number }> = {
  tiny: { batchSize: 4, seqLen: 64 },
  small: { batchSize: 4, seqLen: 128 },
  shakespeare: { batchSize: 8, seqLen: 256 },
  middle: { batchSize: 2, seqLen: 256 },
  'gpt2-small': { batchSize: 1, seqLen: 256 },
};
const WINDOW_STEPS = 20;
const SCHEDULE = { maxLr: 2e-3, minLr: 1e-4, warmupSteps: 20, decaySteps: 5000 };

const scope = self as unknown as {
  postMessage(event: TrainerEvent, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent<TrainerCommand>) => void) | null;
};
const post = (event: TrainerEvent): void => scope.postMessage(event);

interface Session {
  preset: PresetName;
  model: GpuGpt;
  corpus: EncodedCorpus;
  sampler?: GpuSampler;
  /** A running sample job: training waits for it between steps so tokens do not queue behind steps. */
  sampling?: Promise<void>;
  step: number;
  stop: boolean;
}

let gpu: GpuContext | undefined;
let session: Session | undefined;
let corpusText: Promise<string> | undefined;

function reportError(err: unknown): void {
  if (err instanceof GpuUnavailableError) {
    const { title, detail, actions } = err.explanation;
    post({ type: 'error', title, detail, actions });
  } else if (err instanceof GpuError && err.kind === 'out-of-memory') {
    post({
      type: 'error',
      title: 'The GPU ran out of memory',
      detail: err.message,
      actions: ['Choose a smaller preset.', 'Close other tabs or apps that use the GPU, then press Start again.'],
    });
  } else if (err instanceof CheckpointError) {
    post({
      type: 'error',
      title: 'The saved checkpoint could not be used',
      detail: err.message,
      actions: ['Press Start to begin a fresh run; the bad checkpoint will be replaced.'],
    });
  } else {
    post({
      type: 'error',
      title: 'Training stopped on an unexpected error',
      detail: err instanceof Error ? err.message : String(err),
      actions: ['Reload the page and press Start; training resumes from the last checkpoint.'],
    });
  }
  post({ type: 'state', state: 'error' });
}

function presetInfo(limits: GPUSupportedLimits, name: PresetName, vocab: number): PresetInfo {
  const config = gptConfig(name, vocab);
  const shape = { ...PAGE_SHAPES[name], microSteps: 1 };
  const est = estimateMemory(config, shape);
  const problems = limitProblems(limits, config, shape);
  const info: PresetInfo = { name, parameters: est.parameters / 4, memoryBytes: est.total, ...PAGE_SHAPES[name] };
  if (problems.length) info.problem = problems.map((p) => `${p.limit} ${p.available} < ${p.needed}`).join('; ');
  return info;
}

async function loadCorpus(): Promise<EncodedCorpus> {
  corpusText ??= fetch(CORPUS_URL).then((r) => {
    if (!r.ok) throw new Error(`could not load the corpus ${CORPUS_URL}: HTTP ${r.status}`);
    return r.text();
  });
  const text = await corpusText;
  return charCorpus(text);
}

async function init(): Promise<void> {
  try {
    gpu = await requestGpuDevice({ label: 'trainer' });
    gpu.onLost((e) => {
      if (e.reason === 'destroyed') return;
      if (session) session.stop = true;
      const { actions } = explainUnavailable('device-error');
      post({
        type: 'error',
        title: 'The GPU was reset while training',
        detail: `The browser lost the GPU device (${e.message || 'no reason given'}). Progress up to the last checkpoint is saved.`,
        actions: ['Reload the page and press Start to resume.', ...actions],
      });
      post({ type: 'state', state: 'error' });
    });
    const { adapter } = gpu.report;
    const name = [adapter.vendor, adapter.architecture, adapter.description].filter((s) => s && s !== 'unknown').join(' · ');
    const vocab = 65; // the built-in corpus's characters; checked when the corpus loads
    const presets = (Object.keys(PRESETS) as PresetName[]).map((p) => presetInfo(gpu!.device.limits, p, vocab));
    post({ type: 'ready', adapter: name || 'unnamed adapter', presets });
    post({ type: 'state', state: 'idle' });
  } catch (err) {
    reportError(err);
  }
}

const checkpointKey = (preset: PresetName): string => `${preset}:${CORPUS_URL}`;

async function saveCheckpoint(s: Session): Promise<void> {
  const state = await s.model.exportState();
  const { bytes, hash } = await encodeCheckpoint(
    { config: s.model.config, tokenizer: s.corpus.tokenizer.toJSON(), step: s.step, preset: s.preset, savedAt: new Date().toISOString() },
    state,
  );
  await storeCheckpoint(checkpointKey(s.preset), bytes);
  post({ type: 'checkpoint', step: s.step, hash });
}

async function openSession(preset: PresetName, resume: boolean): Promise<Session> {
  if (!gpu) throw new Error('no GPU device');
  const corpus = await loadCorpus();
  const config = gptConfig(preset, corpus.tokenizer.vocabSize);
  const model = new GpuGpt(gpu.device, { config, ...PAGE_SHAPES[preset] });
  const s: Session = { preset, model, corpus, step: 0, stop: false };
  model.setParams(initParams(config, model.layout, 1337));
  const stored = resume ? await loadStoredCheckpoint(checkpointKey(preset)) : undefined;
  if (stored) {
    // Verified in full before anything reaches the GPU: a bad checkpoint changes nothing.
    const checkpoint = await decodeCheckpoint(stored, { config, floats: model.layout.totalFloats, tokenizer: corpus.tokenizer.toJSON() });
    model.importState(checkpoint.state);
    s.step = checkpoint.meta.step;
    // Hash what the GPU now holds: proves the upload, not just the file.
    const { hash } = await encodeCheckpoint(checkpoint.meta, await model.exportState());
    post({ type: 'resumed', step: s.step, hash });
  }
  return s;
}

async function train(s: Session): Promise<void> {
  const { model, corpus } = s;
  const shape = PAGE_SHAPES[s.preset];
  const valOffsets = await randomPages('tessera/validation', { count: 4 * shape.batchSize, seqLen: shape.seqLen, corpusLength: corpus.val.length });
  while (!s.stop) {
    const offsets = await randomPages(`local/${s.step}`, { count: WINDOW_STEPS * shape.batchSize, seqLen: shape.seqLen, corpusLength: corpus.train.length });
    const windowStart = s.step;
    const result = await runInnerLoop({
      model,
      train: corpus.train,
      offsetsForStep: (g) => offsets.subarray((g - windowStart) * shape.batchSize, (g - windowStart + 1) * shape.batchSize),
      startStep: windowStart,
      steps: WINDOW_STEPS,
      schedule: SCHEDULE,
      hyper: DEFAULT_ADAMW,
      val: { ids: corpus.val, offsets: valOffsets },
      lossEvery: 5,
      shouldStop: () => s.stop,
      beforeStep: async () => {
        await s.sampling;
      },
      onProgress: (p) => {
        post({ type: 'progress', step: p.globalStep, windowDone: p.done, windowSize: p.of, tokensPerSecond: p.tokensPerSecond, lr: p.lr });
        if (p.loss !== undefined) post({ type: 'loss', step: p.globalStep, train: p.loss });
        if (p.valLoss !== undefined) post({ type: 'loss', step: p.globalStep, val: p.valLoss });
      },
    });
    s.step += result.stepsDone;
    await saveCheckpoint(s);
  }
}

async function start(preset: PresetName, resume: boolean): Promise<void> {
  if (session && !session.stop) return;
  post({ type: 'state', state: 'loading', preset });
  try {
    if (!session || session.preset !== preset) {
      session?.sampler?.destroy();
      session?.model.destroy();
      session = await openSession(preset, resume);
    }
    session.stop = false;
    post({ type: 'state', state: 'training', preset });
    await train(session);
    post({ type: 'state', state: 'paused', preset });
  } catch (err) {
    reportError(err);
  }
}

async function sample(id: number, prompt: string, count: number, temperature: number, topK: number): Promise<void> {
  const s = session;
  if (!s || !gpu) {
    post({ type: 'sample', id, text: 'Start training first: there is no model to sample from yet.', done: true });
    return;
  }
  let done = (): void => undefined;
  s.sampling = new Promise<void>((resolve) => (done = resolve));
  try {
    s.sampler ??= new GpuSampler(gpu.device, s.model.config, s.model.params);
    const tokenizer = s.corpus.tokenizer;
    let text = '';
    await s.sampler.generate(encodePrompt(tokenizer, prompt), count, { temperature, topK }, seededRandom(id), (token) => {
      text += tokenizer.decode([token]);
      post({ type: 'sample', id, text, done: false });
    });
    post({ type: 'sample', id, text, done: true });
  } catch (err) {
    reportError(err);
  } finally {
    done();
  }
}

/** Reads the weights between steps (queue order makes the copy consistent) and ships the file. */
async function exportModel(format: ExportFormat): Promise<void> {
  const s = session;
  if (!s) {
    post({
      type: 'error',
      title: 'Nothing to export yet',
      detail: 'There is no model in this tab until training starts.',
      actions: ['Press Start, then export.'],
    });
    return;
  }
  try {
    const step = s.step;
    const params = await s.model.readParams();
    const options = { tokenizer: s.corpus.tokenizer.toJSON(), preset: s.preset, step };
    const name = `tessera-${s.preset}-step${step}`;
    const bytes =
      format === 'onnx'
        ? exportOnnx(s.model.config, s.model.layout, params, options)
        : zipStore(name, { ...exportHuggingFace(s.model.config, s.model.layout, params, options) });
    scope.postMessage({ type: 'export', fileName: `${name}.${format === 'onnx' ? 'onnx' : 'zip'}`, step, bytes }, [bytes.buffer]);
  } catch (err) {
    reportError(err);
  }
}

const clamp = (x: unknown, lo: number, hi: number, fallback: number): number =>
  typeof x === 'number' && Number.isFinite(x) ? Math.min(hi, Math.max(lo, x)) : fallback;

scope.onmessage = (e) => {
  const cmd = e.data;
  if (cmd.type === 'start' && cmd.preset in PRESETS) void start(cmd.preset, cmd.resume === true);
  else if (cmd.type === 'pause' && session) session.stop = true;
  else if (cmd.type === 'export') void exportModel(cmd.format === 'hf' ? 'hf' : 'onnx');
  else if (cmd.type === 'sample') {
    const prompt = typeof cmd.prompt === 'string' ? cmd.prompt.slice(0, 2000) : '';
    void sample(
      clamp(cmd.id, 0, Number.MAX_SAFE_INTEGER, 0),
      prompt,
      Math.round(clamp(cmd.count, 1, 2000, 200)),
      clamp(cmd.temperature, 0.01, 5, 1),
      Math.round(clamp(cmd.topK, 0, 1000, 0)),
    );
  }
};

post({ type: 'state', state: 'starting' });
void init();
