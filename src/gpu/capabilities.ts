// What a WebGPU adapter offers training, and plain-words explanations when WebGPU is
// missing or refused. Pure data: the UI renders it, tests assert on it.

/** Limits training relies on, with the WebGPU spec defaults every adapter must meet. */
export const TRAINING_LIMITS = [
  { key: 'maxStorageBufferBindingSize', label: 'Storage buffer binding size', minimum: 128 * 1024 * 1024, unit: 'bytes' },
  { key: 'maxBufferSize', label: 'Buffer size', minimum: 256 * 1024 * 1024, unit: 'bytes' },
  { key: 'maxComputeWorkgroupStorageSize', label: 'Workgroup storage', minimum: 16 * 1024, unit: 'bytes' },
  { key: 'maxComputeInvocationsPerWorkgroup', label: 'Invocations per workgroup', minimum: 256, unit: 'count' },
  { key: 'maxStorageBuffersPerShaderStage', label: 'Storage buffers per stage', minimum: 8, unit: 'count' },
  { key: 'maxComputeWorkgroupsPerDimension', label: 'Workgroups per dimension', minimum: 65535, unit: 'count' },
] as const;

export type TrainingLimitKey = (typeof TRAINING_LIMITS)[number]['key'];

/** Features that speed training up when present; none is required. */
export const TRAINING_FEATURES = [
  { key: 'shader-f16', label: 'shader-f16 (half precision)' },
  { key: 'subgroups', label: 'subgroups (fast reductions)' },
  { key: 'timestamp-query', label: 'timestamp-query (kernel timing)' },
] as const;

export interface LimitRow {
  key: TrainingLimitKey;
  label: string;
  value: number;
  minimum: number;
  unit: 'bytes' | 'count';
  ok: boolean;
}

export interface FeatureRow {
  key: string;
  label: string;
  present: boolean;
}

export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
}

export interface CapabilityReport {
  adapter: AdapterSummary;
  limits: LimitRow[];
  features: FeatureRow[];
  /** True when every training limit meets its minimum. */
  canTrain: boolean;
}

/** The subset of GPUAdapter the report reads, so tests can describe any adapter. */
export interface AdapterLike {
  readonly info: GPUAdapterInfo;
  readonly limits: GPUSupportedLimits;
  readonly features: GPUSupportedFeatures;
}

export function summarizeAdapterInfo(info: GPUAdapterInfo): AdapterSummary {
  const withFallback = info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  return {
    vendor: info.vendor || 'unknown',
    architecture: info.architecture || 'unknown',
    device: info.device || '',
    description: info.description || '',
    isFallbackAdapter: withFallback.isFallbackAdapter === true,
  };
}

export function describeAdapter(adapter: AdapterLike): CapabilityReport {
  const limits: LimitRow[] = TRAINING_LIMITS.map((l) => {
    const value = adapter.limits[l.key];
    return { key: l.key, label: l.label, value, minimum: l.minimum, unit: l.unit, ok: value >= l.minimum };
  });
  const features: FeatureRow[] = TRAINING_FEATURES.map((f) => ({ key: f.key, label: f.label, present: adapter.features.has(f.key) }));
  return { adapter: summarizeAdapterInfo(adapter.info), limits, features, canTrain: limits.every((l) => l.ok) };
}

export function formatLimit(value: number, unit: 'bytes' | 'count'): string {
  if (unit === 'count') return value.toLocaleString('en-US');
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = value;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[i]}`;
}

export type UnavailableReason = 'insecure-context' | 'no-api' | 'no-adapter' | 'adapter-error' | 'device-error' | 'below-limits';

export interface Explanation {
  reason: UnavailableReason;
  title: string;
  detail: string;
  actions: string[];
}

const BROWSERS = 'Chrome or Edge 113+ on Windows, macOS and ChromeOS, Chrome 121+ on Android, Safari 26+, or Firefox 141+ on Windows';

/** Plain words for why this visitor cannot train, and what they can do about it. */
export function explainUnavailable(reason: UnavailableReason, cause?: string): Explanation {
  const because = cause ? ` (${cause})` : '';
  switch (reason) {
    case 'insecure-context':
      return {
        reason,
        title: 'This page was not opened over a secure connection',
        detail: 'Browsers only offer WebGPU to pages served over HTTPS or from localhost.',
        actions: ['Open the https:// address of this site.', 'Running it yourself? Use http://localhost or http://127.0.0.1.'],
      };
    case 'no-api':
      return {
        reason,
        title: 'Your browser does not offer WebGPU',
        detail: `Training runs on your GPU through WebGPU, which this browser does not expose. It ships in ${BROWSERS}.`,
        actions: [
          'Update your browser, or open this page in a recent Chrome or Edge.',
          'Linux Chrome/Chromium: enable chrome://flags/#enable-unsafe-webgpu (and chrome://flags/#enable-vulkan), then restart.',
          'Firefox on macOS or Linux: set dom.webgpu.enabled to true in about:config.',
          'Safari before 26: enable WebGPU under Develop → Feature Flags.',
        ],
      };
    case 'no-adapter':
      return {
        reason,
        title: 'WebGPU is present but found no usable GPU',
        detail: `The browser refused to hand out a GPU adapter${because}. Usually the GPU or its driver is on the browser's blocklist, or hardware acceleration is off.`,
        actions: [
          'Turn on "Use graphics acceleration when available" in the browser settings and restart it.',
          'Update your graphics driver.',
          'Linux Chrome/Chromium: enable chrome://flags/#enable-unsafe-webgpu and chrome://flags/#enable-vulkan.',
          'Check chrome://gpu: the WebGPU line should say "Hardware accelerated".',
        ],
      };
    case 'adapter-error':
      return {
        reason,
        title: 'Asking for a GPU adapter failed',
        detail: `The browser threw while looking for a GPU${because}.`,
        actions: ['Reload the page.', 'Restart the browser; if it persists, update your graphics driver.'],
      };
    case 'device-error':
      return {
        reason,
        title: 'The GPU refused to open a device for training',
        detail: `The adapter exists but would not create a device with the limits training needs${because}.`,
        actions: ['Close other tabs or apps using the GPU and reload.', 'Update your graphics driver or try another browser.'],
      };
    case 'below-limits':
      return {
        reason,
        title: 'This GPU is below the minimum for training',
        detail: `The adapter reports limits below what the smallest model needs${because}.`,
        actions: ['Try another device, or another browser on this one (limits differ between browsers).'],
      };
  }
}
