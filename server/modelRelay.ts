// The app server's copy of the validator's latest model (`/api/model`): read upstream at most
// once per interval however many viewers press "Try the model", capped in size, headers checked.
import { MODEL_HEADERS } from './validatorStatus';

export interface RelayedModel {
  onnx: Uint8Array;
  window: number;
  hash: string;
  /** The tokenizer spec as JSON, re-serialised here after checking. */
  tokenizer: string;
  contextLength: number;
}

export interface ModelRelayOptions {
  /** Upstream answers larger than this are refused (gpt2-small's ONNX is 499 MB). */
  maxBytes?: number;
  freshMs?: number;
  timeoutMs?: number;
  now?: () => number;
}

/** 1 GiB: every preset's ONNX fits, and no upstream can make the server hold more. */
export const MAX_MODEL_BYTES = 2 ** 30;

export class ModelRelay {
  private cached?: { model: RelayedModel; at: number };
  private inflight?: Promise<RelayedModel>;
  upstreamReads = 0;

  constructor(
    private readonly url: string,
    private readonly o: ModelRelayOptions = {},
  ) {}

  async get(): Promise<RelayedModel> {
    const now = (this.o.now ?? Date.now)();
    if (this.cached && now - this.cached.at < (this.o.freshMs ?? 10_000)) return this.cached.model;
    this.inflight ??= this.read().finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  private async read(): Promise<RelayedModel> {
    this.upstreamReads++;
    const res = await fetch(this.url, { signal: AbortSignal.timeout(this.o.timeoutMs ?? 120_000) });
    if (!res.ok) throw new Error(`the validator's model answered ${res.status}`);
    const max = this.o.maxBytes ?? MAX_MODEL_BYTES;
    const declared = Number(res.headers.get('content-length'));
    if (!Number.isSafeInteger(declared) || declared <= 0 || declared > max) {
      await res.body?.cancel();
      throw new Error(`the validator's model declares ${res.headers.get('content-length') ?? 'no'} bytes; the relay takes 1 to ${max}`);
    }
    const model = { ...checkedHeaders(res.headers), onnx: await readCapped(res, declared) };
    this.cached = { model, at: (this.o.now ?? Date.now)() };
    return model;
  }
}

/** The body, exactly `length` bytes: a longer or shorter stream is refused, not truncated. */
async function readCapped(res: Response, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let at = 0;
  const reader = res.body!.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (at + value.length > length) {
      await reader.cancel();
      throw new Error(`the validator's model is longer than the ${length} bytes it declared`);
    }
    out.set(value, at);
    at += value.length;
  }
  if (at !== length) throw new Error(`the validator's model ended at ${at} of ${length} bytes`);
  return out;
}

function checkedHeaders(h: Headers): Omit<RelayedModel, 'onnx'> {
  const window = Number(h.get(MODEL_HEADERS.window));
  if (!Number.isSafeInteger(window) || window < 0) throw new Error(`the validator's model has no valid window (${h.get(MODEL_HEADERS.window)})`);
  const contextLength = Number(h.get(MODEL_HEADERS.context));
  if (!Number.isSafeInteger(contextLength) || contextLength < 1 || contextLength > 65_536)
    throw new Error(`the validator's model has no valid context length (${h.get(MODEL_HEADERS.context)})`);
  const hash = h.get(MODEL_HEADERS.hash) ?? '';
  if (!/^[0-9a-f]{64}$/.test(hash)) throw new Error("the validator's model has no valid hash");
  let spec: unknown;
  try {
    spec = JSON.parse(decodeURIComponent(h.get(MODEL_HEADERS.tokenizer) ?? ''));
  } catch {
    throw new Error("the validator's model has no readable tokenizer");
  }
  const s = spec as { kind?: unknown; chars?: unknown };
  const ok =
    s !== null &&
    typeof s === 'object' &&
    (s.kind === 'byte' || s.kind === 'gpt2' || (s.kind === 'char' && typeof s.chars === 'string' && s.chars.length > 0 && s.chars.length <= 4096));
  if (!ok) throw new Error("the validator's model names no tokenizer Tessera knows");
  return { window, hash, contextLength, tokenizer: JSON.stringify(s.kind === 'char' ? { kind: 'char', chars: s.chars } : { kind: s.kind }) };
}
