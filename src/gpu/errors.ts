// Typed GPU errors, and the plumbing that turns WebGPU's asynchronous error reports
// (error scopes, uncapturederror) into exceptions a caller or a test cannot miss.

export type GpuErrorKind = 'validation' | 'out-of-memory' | 'internal' | 'unknown';

export class GpuError extends Error {
  readonly kind: GpuErrorKind;
  constructor(kind: GpuErrorKind, message: string) {
    super(`WebGPU ${kind} error: ${message}`);
    this.name = 'GpuError';
    this.kind = kind;
  }
}

function kindOf(error: GPUError): GpuErrorKind {
  // Class checks would fail across realms (Dawn in Node exposes its own classes), so name first.
  const name = error.constructor?.name ?? '';
  if (name.includes('Validation')) return 'validation';
  if (name.includes('OutOfMemory')) return 'out-of-memory';
  if (name.includes('Internal')) return 'internal';
  return 'unknown';
}

export function toGpuError(error: GPUError): GpuError {
  return new GpuError(kindOf(error), error.message);
}

const SCOPES: GPUErrorFilter[] = ['validation', 'out-of-memory', 'internal'];

/**
 * Runs `work` inside validation, out-of-memory and internal error scopes and throws the
 * first error any of them caught, so a wrong pipeline or dispatch fails where it happens.
 */
export async function withGpuErrors<T>(device: GPUDevice, work: () => T | Promise<T>): Promise<T> {
  for (const filter of SCOPES) device.pushErrorScope(filter);
  let result: T;
  try {
    result = await work();
  } finally {
    // Scopes pop in reverse; all must pop even if work threw, or later scopes misattribute.
    const popped: (GPUError | null)[] = [];
    for (let i = 0; i < SCOPES.length; i++) popped.push(await device.popErrorScope());
    const first = popped.find((e): e is GPUError => e !== null);
    if (first) throw toGpuError(first);
  }
  return result;
}

/** Collects errors no scope caught; `check()` throws the first one. For tests and long runs. */
export interface UncapturedErrorWatch {
  readonly errors: readonly GpuError[];
  check(): void;
  dispose(): void;
}

export function watchUncapturedErrors(device: GPUDevice, log?: (e: GpuError) => void): UncapturedErrorWatch {
  const errors: GpuError[] = [];
  const onError = (event: Event): void => {
    const error = toGpuError((event as GPUUncapturedErrorEvent).error);
    errors.push(error);
    log?.(error);
  };
  device.addEventListener('uncapturederror', onError);
  return {
    errors,
    check(): void {
      if (errors.length > 0) throw errors[0];
    },
    dispose(): void {
      device.removeEventListener('uncapturederror', onError);
    },
  };
}
