// Opens a WebGPU device the same way in a tab, a Web Worker and Node (pass Dawn's GPU),
// asks for the limits training wants, and reports device loss as an event.
import { describeAdapter, explainUnavailable, TRAINING_FEATURES, TRAINING_LIMITS } from './capabilities';
import type { CapabilityReport, Explanation, UnavailableReason } from './capabilities';

/** Thrown when no device can be had; carries the plain-words explanation for the visitor. */
export class GpuUnavailableError extends Error {
  readonly reason: UnavailableReason;
  readonly explanation: Explanation;
  constructor(reason: UnavailableReason, cause?: string) {
    const explanation = explainUnavailable(reason, cause);
    super(`${explanation.title}: ${explanation.detail}`);
    this.name = 'GpuUnavailableError';
    this.reason = reason;
    this.explanation = explanation;
  }
}

export interface DeviceLostEvent {
  reason: 'destroyed' | 'unknown';
  message: string;
}

export interface GpuContext {
  readonly device: GPUDevice;
  readonly report: CapabilityReport;
  /** Resolves once, when the device is lost or destroyed. */
  readonly lost: Promise<DeviceLostEvent>;
  /** Subscribes to loss; returns an unsubscribe function. Fires even if loss already happened. */
  onLost(listener: (event: DeviceLostEvent) => void): () => void;
  destroy(): void;
}

export interface RequestGpuOptions {
  /** The GPU entry point; defaults to navigator.gpu (tab or worker). In Node pass `nodeGpu()`. */
  gpu?: GPU;
  powerPreference?: GPUPowerPreference;
  label?: string;
}

interface NavigatorWithGpu {
  gpu?: GPU;
}

function defaultGpu(): GPU | undefined {
  const nav = (globalThis as { navigator?: NavigatorWithGpu }).navigator;
  return nav?.gpu;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Finds an adapter or throws GpuUnavailableError with the reason a visitor can act on. */
export async function requestTrainingAdapter(options: RequestGpuOptions = {}): Promise<GPUAdapter> {
  const secure = (globalThis as { isSecureContext?: boolean }).isSecureContext;
  const gpu = options.gpu ?? defaultGpu();
  if (!gpu) throw new GpuUnavailableError(secure === false ? 'insecure-context' : 'no-api');
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference ?? 'high-performance' });
  } catch (err) {
    throw new GpuUnavailableError('adapter-error', messageOf(err));
  }
  if (!adapter) throw new GpuUnavailableError('no-adapter', 'requestAdapter() returned null');
  return adapter;
}

/** Asks for the adapter's best value of every training limit rather than the low defaults. */
function wantedLimits(adapter: GPUAdapter): Record<string, number> {
  const limits: Record<string, number> = {};
  for (const l of TRAINING_LIMITS) limits[l.key] = adapter.limits[l.key];
  limits.maxComputeWorkgroupSizeX = adapter.limits.maxComputeWorkgroupSizeX;
  limits.maxComputeWorkgroupSizeY = adapter.limits.maxComputeWorkgroupSizeY;
  return limits;
}

function wantedFeatures(adapter: GPUAdapter): GPUFeatureName[] {
  return TRAINING_FEATURES.map((f) => f.key).filter((k) => adapter.features.has(k)) as GPUFeatureName[];
}

export async function requestGpuDevice(options: RequestGpuOptions = {}): Promise<GpuContext> {
  const adapter = await requestTrainingAdapter(options);
  const report = describeAdapter(adapter);
  if (!report.canTrain) {
    const low = report.limits.filter((l) => !l.ok).map((l) => `${l.key} ${l.value} < ${l.minimum}`);
    throw new GpuUnavailableError('below-limits', low.join(', '));
  }
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({
      label: options.label ?? 'tessera',
      requiredLimits: wantedLimits(adapter),
      requiredFeatures: wantedFeatures(adapter),
    });
  } catch (err) {
    throw new GpuUnavailableError('device-error', messageOf(err));
  }
  return wrapDevice(device, report);
}

function wrapDevice(device: GPUDevice, report: CapabilityReport): GpuContext {
  const listeners = new Set<(event: DeviceLostEvent) => void>();
  let lostEvent: DeviceLostEvent | undefined;
  const lost = device.lost.then((info): DeviceLostEvent => {
    lostEvent = { reason: info.reason === 'destroyed' ? 'destroyed' : 'unknown', message: info.message };
    for (const listener of listeners) listener(lostEvent);
    return lostEvent;
  });
  return {
    device,
    report,
    lost,
    onLost(listener) {
      if (lostEvent) queueMicrotask(() => listener(lostEvent as DeviceLostEvent));
      else listeners.add(listener);
      return () => listeners.delete(listener);
    },
    destroy() {
      device.destroy();
    },
  };
}

/** Capability report without keeping a device: for the page that only wants to show it. */
export async function probeWebGpu(options: RequestGpuOptions = {}): Promise<CapabilityReport> {
  const ctx = await requestGpuDevice(options);
  ctx.destroy();
  return ctx.report;
}
