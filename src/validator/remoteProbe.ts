// Loss probes in a worker (a Node worker thread or a Web Worker): scoring is seconds of compute,
// and on the validator's own event loop it would starve the mesh, manifests and status API.
import type { GptConfig } from '../model/config';
import { GpuUnavailableError, requestGpuDevice } from '../gpu/device';
import { estimateMemory, mib } from '../gpu/memoryPlan';
import { CpuLossProbe } from './cpuLossProbe';
import { GPU_PROBE_BATCH, GpuLossProbe } from './gpuLossProbe';
import { OnnxLossProbe } from './onnxLossProbe';
import type { LossProbe } from './scoring';

/** What the worker measures with: `gpu` falls back to onnxruntime on the CPU where no GPU opens. */
export interface ProbeSpec {
  mode: 'gpu' | 'cpu';
  config: GptConfig;
  seqLen: number;
  /** Token streams the two probes read: the training split (scoring) and held-out text (validation). */
  train: Uint16Array;
  val: Uint16Array;
  label?: string;
  /** onnxruntime's wasm threads for the CPU probes (the platform knows its cores). */
  threads?: number;
}

export type ProbeName = 'scoring' | 'validation';

export type ProbeRequest = { type: 'open'; spec: ProbeSpec } | { type: 'losses'; id: number; probe: ProbeName; theta: Float32Array; offsets: Uint32Array };

export type ProbeReply =
  { type: 'opened'; label: string } | { type: 'losses'; id: number; losses: Float64Array } | { type: 'error'; id?: number; message: string };

/** The two ends of a worker's message channel, as Node's worker_threads and the browser both offer. */
export interface ProbePort {
  post(message: ProbeRequest | ProbeReply, transfer?: ArrayBuffer[]): void;
  onMessage(handler: (message: unknown) => void): void;
  /** A dead worker: every pending request fails with this reason. */
  onExit?(handler: (reason: string) => void): void;
  close(): void;
}

export interface OpenedProbes {
  scoring: LossProbe;
  validation: LossProbe;
  /** Which instrument measures, in words (the adapter, or the CPU reference and why). */
  label: string;
  close(): void;
}

/** Opens both probes on one device: the GPU when asked and available, else onnxruntime's wasm (else the float64 reference). */
export async function openLossProbes(spec: ProbeSpec, gpu?: () => GPU | undefined): Promise<OpenedProbes> {
  if (spec.mode === 'gpu') {
    try {
      const ctx = await requestGpuDevice({ gpu: gpu?.(), label: spec.label ?? 'validator' });
      const scoring = new GpuLossProbe(ctx.device, spec.config, spec.seqLen, spec.train);
      const validation = new GpuLossProbe(ctx.device, spec.config, spec.seqLen, spec.val);
      return {
        scoring,
        validation,
        label: `${ctx.report.adapter.vendor} ${ctx.report.adapter.architecture} (${gpuFootprint(spec, scoring.gpuBytes + validation.gpuBytes)})`,
        close: () => [scoring.destroy(), validation.destroy(), ctx.destroy()],
      };
    } catch (err) {
      if (!(err instanceof GpuUnavailableError)) throw err;
      return cpuProbes(spec, `no GPU: ${err.message}`);
    }
  }
  return cpuProbes(spec);
}

/** The two forward-only probes' GPU memory beside what two training models would have held (the probe before it). */
function gpuFootprint(spec: ProbeSpec, bytes: number): string {
  const training = 2 * estimateMemory(spec.config, { batchSize: GPU_PROBE_BATCH, seqLen: spec.seqLen, microSteps: 1 }).total;
  return `forward-only probes: ${mib(bytes, 2)} of GPU memory; training models would hold ${mib(training, 2)}`;
}

/**
 * The exported forward graph in onnxruntime (wasm); the float64 reference only where onnxruntime
 * cannot load, since it is many times slower (bench:onnx-probe measures both).
 */
async function cpuProbes(spec: ProbeSpec, why?: string): Promise<OpenedProbes> {
  const because = why ? `; ${why}` : '';
  const options = spec.threads !== undefined ? { threads: spec.threads } : {};
  const scoring = new OnnxLossProbe(spec.config, spec.seqLen, spec.train, options);
  const validation = new OnnxLossProbe(spec.config, spec.seqLen, spec.val, options);
  try {
    await Promise.all([scoring.ready(), validation.ready()]);
    return {
      scoring,
      validation,
      label: `onnxruntime-web on the CPU (wasm, ${spec.threads ?? 'default'} threads${because})`,
      close: () => void Promise.all([scoring.destroy(), validation.destroy()]),
    };
  } catch (err) {
    await Promise.all([scoring.destroy(), validation.destroy()]).catch(() => undefined);
    return {
      scoring: new CpuLossProbe(spec.config, spec.seqLen, spec.train),
      validation: new CpuLossProbe(spec.config, spec.seqLen, spec.val),
      label: `the CPU reference model (onnxruntime did not load: ${message(err)}${because})`,
      close: () => undefined,
    };
  }
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** The worker's side: opens the probes once, then answers loss requests one at a time, in order. */
export function serveLossProbes(port: ProbePort, gpu?: () => GPU | undefined): void {
  let opened: Promise<OpenedProbes> | undefined;
  // One request at a time: a GPU probe's model holds one batch, so requests must not interleave.
  let queue: Promise<void> = Promise.resolve();
  port.onMessage((raw) => {
    const m = raw as ProbeRequest;
    if (m.type === 'open') {
      opened = openLossProbes(m.spec, gpu);
      opened.then(
        (p) => port.post({ type: 'opened', label: p.label }),
        (err: unknown) => port.post({ type: 'error', message: message(err) }),
      );
      return;
    }
    if (m.type !== 'losses' || !opened)
      return port.post({ type: 'error', id: (m as { id?: number }).id, message: 'the probe worker was asked for losses before it was opened' });
    const probes = opened;
    queue = queue.then(async () => {
      try {
        const losses = await (await probes)[m.probe].perSequence(m.theta, m.offsets);
        port.post({ type: 'losses', id: m.id, losses }, [losses.buffer as ArrayBuffer]);
      } catch (err) {
        port.post({ type: 'error', id: m.id, message: message(err) });
      }
    });
  });
}

/** The validator's side: the worker's two probes as ordinary LossProbes. */
export class RemoteProbes {
  readonly scoring: LossProbe = { perSequence: (theta, offsets) => this.losses('scoring', theta, offsets) };
  readonly validation: LossProbe = { perSequence: (theta, offsets) => this.losses('validation', theta, offsets) };
  private readonly pending = new Map<number, { resolve: (l: Float64Array) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private dead?: string;

  private constructor(
    private readonly port: ProbePort,
    readonly label: string,
  ) {}

  /** Sends the spec and waits until the worker has its device (or its CPU fallback) ready. */
  static open(port: ProbePort, spec: ProbeSpec): Promise<RemoteProbes> {
    return new Promise((resolve, reject) => {
      let probes: RemoteProbes | undefined;
      port.onMessage((raw) => {
        const m = raw as ProbeReply;
        if (!probes) {
          if (m.type === 'opened') resolve((probes = new RemoteProbes(port, m.label)));
          else reject(new Error(`the loss probe worker could not open: ${m.type === 'error' ? m.message : m.type}`));
          return;
        }
        probes.receive(m);
      });
      port.onExit?.((reason) => {
        if (probes) probes.fail(reason);
        else reject(new Error(`the loss probe worker exited before it opened: ${reason}`));
      });
      port.post({ type: 'open', spec });
    });
  }

  close(): void {
    this.fail('the loss probe worker was closed');
    this.port.close();
  }

  private losses(probe: ProbeName, theta: Float32Array, offsets: Uint32Array): Promise<Float64Array> {
    if (this.dead) return Promise.reject(new Error(this.dead));
    const id = this.nextId++;
    // Copies, transferred: the caller keeps its θ, and nothing is copied twice.
    const t = theta.slice();
    const o = offsets.slice();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.port.post({ type: 'losses', id, probe, theta: t, offsets: o }, [t.buffer, o.buffer]);
    });
  }

  private receive(m: ProbeReply): void {
    if (m.type === 'opened' || m.id === undefined) return;
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (m.type === 'losses') p.resolve(m.losses);
    else p.reject(new Error(`loss probe: ${m.message}`));
  }

  private fail(reason: string): void {
    this.dead ??= reason;
    for (const p of this.pending.values()) p.reject(new Error(reason));
    this.pending.clear();
  }
}
