// "Try the model": downloads the swarm's latest verified model (`/api/model`, ONNX), opens it in
// onnxruntime-web's wasm backend (no WebGPU needed) and generates text from it token by token.
import type * as OrtModule from 'onnxruntime-web';
import { sampleToken, type SamplingOptions } from '../model/sampling';
import { seededRandom } from '../model/random';
import { ONNX_INPUT, ONNX_OUTPUT } from '../train/onnxExport';
import { encodePrompt, loadTokenizer, type Tokenizer, type TokenizerSpec } from '../train/tokenizer';

export interface SwarmModel {
  window: number;
  hash: string;
  bytes: number;
  contextLength: number;
  tokenizer: Tokenizer;
  session: OrtModule.InferenceSession;
  ort: typeof OrtModule;
}

const header = (r: Response, name: string): string => r.headers.get(name) ?? '';

/** The body with progress (received, total) as it arrives. */
async function readWithProgress(r: Response, onProgress: (received: number, total: number) => void): Promise<Uint8Array> {
  const total = Number(r.headers.get('content-length')) || 0;
  const parts: Uint8Array[] = [];
  let received = 0;
  const reader = r.body!.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    received += value.length;
    onProgress(received, total);
  }
  const out = new Uint8Array(received);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export async function loadSwarmModel(onProgress: (received: number, total: number) => void): Promise<SwarmModel> {
  const r = await fetch('/api/model');
  if (!r.ok) {
    const body = (await r.json().catch(() => ({}))) as { error?: unknown };
    throw new Error(typeof body.error === 'string' ? body.error.slice(0, 300) : `/api/model answered ${r.status}`);
  }
  const window = Number(header(r, 'x-tessera-window'));
  const contextLength = Number(header(r, 'x-tessera-context'));
  const spec = JSON.parse(decodeURIComponent(header(r, 'x-tessera-tokenizer'))) as TokenizerSpec;
  const [bytes, tokenizer, ort] = await Promise.all([readWithProgress(r, onProgress), loadTokenizer(spec), import('onnxruntime-web')]);
  // Threads need cross-origin isolation (SharedArrayBuffer); without it onnxruntime runs one.
  ort.env.wasm.numThreads = globalThis.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency) : 1;
  const session = await ort.InferenceSession.create(bytes);
  return { window, hash: header(r, 'x-tessera-model-hash'), bytes: bytes.length, contextLength, tokenizer, session, ort };
}

/**
 * `count` new tokens after `prompt`, each from the full forward over the last contextLength
 * tokens (no KV cache: the graph is the exported one, as simple as the file a user downloads).
 */
export async function generate(
  model: SwarmModel,
  prompt: string,
  count: number,
  options: SamplingOptions & { seed: number },
  onText: (text: string) => void,
  cancelled: () => boolean,
): Promise<string> {
  const ids = Array.from(encodePrompt(model.tokenizer, prompt));
  const random = seededRandom(options.seed);
  const made: number[] = [];
  for (let i = 0; i < count && !cancelled(); i++) {
    const window = ids.slice(-model.contextLength);
    const tokens = new model.ort.Tensor(
      'int64',
      BigInt64Array.from(window, (t) => BigInt(t)),
      [1, window.length],
    );
    const out = await model.session.run({ [ONNX_INPUT]: tokens });
    const logits = out[ONNX_OUTPUT].data as Float32Array;
    const vocab = logits.length / window.length;
    const next = sampleToken(logits.subarray((window.length - 1) * vocab), options, random);
    out[ONNX_OUTPUT].dispose();
    ids.push(next);
    made.push(next);
    onText(model.tokenizer.decode(made));
  }
  return model.tokenizer.decode(made);
}
