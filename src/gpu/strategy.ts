// Which kernel family suits a device. Software adapters (SwiftShader, llvmpipe, WARP) run
// workgroups on CPU threads and emulate barriers at great cost, so they get barrier-free
// kernels; GPUs get kernels that share work through workgroup memory.

export type KernelStrategy = 'shared' | 'direct';

const strategies = new WeakMap<GPUDevice, KernelStrategy>();

export function kernelStrategy(device: GPUDevice): KernelStrategy {
  let strategy = strategies.get(device);
  if (!strategy) {
    const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
    const software = info !== undefined && /swiftshader|llvmpipe|lavapipe|warp/i.test(`${info.architecture} ${info.description} ${info.vendor}`);
    strategy = software ? 'direct' : 'shared';
    strategies.set(device, strategy);
  }
  return strategy;
}

/** Overrides the per-device choice: tests run both families, benchmarks compare them. */
export function setKernelStrategy(device: GPUDevice, strategy: KernelStrategy): void {
  strategies.set(device, strategy);
}
