// GPU kernel checks written once and run in every runtime: Vitest drives them on Dawn in Node,
// a harness page drives them in Chromium's tab and Web Worker. No test-framework imports here.
import { createStorageBuffer, readFloat32 } from '../../src/gpu/buffers';
import type { GpuContext } from '../../src/gpu/device';
import { GpuError, withGpuErrors } from '../../src/gpu/errors';
import { createMatmul, matmulDispatch, type MatmulSpec } from '../../src/gpu/matmul';
import { kernelStrategy, setKernelStrategy, type KernelStrategy } from '../../src/gpu/strategy';
import { encodePass } from '../../src/gpu/buffers';
import { createSumReduction } from '../../src/gpu/reduce';
import { topKCpu, type TopKChunk } from '../../src/compress/topk';
import { createGpuTopK } from '../../src/gpu/topk';
import { defineKernel } from '../../src/gpu/kernel';
import { randomFloats } from '../support/random';

export interface SuiteEnv {
  /** A device shared by the cases that do not destroy it. */
  device: GPUDevice;
  /** Opens a fresh device, for cases that lose it on purpose. */
  open(): Promise<GpuContext>;
}

export interface KernelCase {
  name: string;
  run(env: SuiteEnv): Promise<void>;
}

function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(message);
}

function cpuMatmul(a: Float32Array, b: Float32Array, m: number, n: number, k: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let p = 0; p < k; p++) {
      const av = a[i * k + p];
      for (let j = 0; j < n; j++) c[i * n + j] += av * b[p * n + j];
    }
  return c;
}

/** Largest |got − want| relative to the scale of `want`; fails with the worst index. */
function checkClose(got: Float32Array, want: Float64Array, relTol: number, what: string): void {
  check(got.length === want.length, `${what}: length ${got.length} != ${want.length}`);
  let scale = 1e-6;
  for (const w of want) scale = Math.max(scale, Math.abs(w));
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    if (!(err <= relTol * scale)) throw new Error(`${what}: index ${i} got ${got[i]}, want ${want[i]} (tolerance ${relTol * scale})`);
  }
}

async function gpuSum(device: GPUDevice, values: Float32Array): Promise<number> {
  return withGpuErrors(device, async () => {
    const input = createStorageBuffer(device, values, 'test.sum.input');
    const sum = createSumReduction(device, input, values.length);
    const encoder = device.createCommandEncoder();
    sum.encode(encoder);
    device.queue.submit([encoder.finish()]);
    const [result] = await readFloat32(device, sum.result, 1);
    sum.result.destroy();
    input.destroy();
    return result;
  });
}

async function checkSum(device: GPUDevice, n: number, seed: number): Promise<void> {
  const values = randomFloats(n, seed);
  let want = 0;
  let magnitude = 0;
  for (const v of values) {
    want += v;
    magnitude += Math.abs(v);
  }
  const got = await gpuSum(device, values);
  // f32 accumulation: error grows with the summed magnitude, not the (cancelling) result.
  check(Math.abs(got - want) <= 1e-6 * magnitude + 1e-6, `sum of ${n}: got ${got}, want ${want}`);
}

async function checkMatmul(device: GPUDevice, m: number, n: number, k: number, seed: number): Promise<void> {
  const a = randomFloats(m * k, seed);
  const b = randomFloats(k * n, seed + 1);
  const got = await withGpuErrors(device, async () => {
    const ab = createStorageBuffer(device, a, 'test.mm.a');
    const bb = createStorageBuffer(device, b, 'test.mm.b');
    const cb = createStorageBuffer(device, m * n * 4, 'test.mm.c');
    const mm = createMatmul(device, { m, n, k }, ab, bb, cb);
    const encoder = device.createCommandEncoder();
    mm.encode(encoder);
    device.queue.submit([encoder.finish()]);
    const out = await readFloat32(device, cb, m * n);
    for (const buf of [ab, bb, cb]) buf.destroy();
    return out;
  });
  checkClose(got, cpuMatmul(a, b, m, n, k), 1e-5 * Math.sqrt(k), `matmul ${m}x${k}·${k}x${n}`);
}

/** C (+)= op(A)·op(B) (+ bias) on the CPU, A stored [k,m] if transA, B stored [n,k] if transB. */
function cpuMatmulVariant(spec: MatmulSpec, a: Float32Array, b: Float32Array, c0: Float32Array, bias?: Float32Array): Float64Array {
  const { m, n, k } = spec;
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = spec.accumulate ? c0[i * n + j] : 0;
      for (let p = 0; p < k; p++) s += (spec.transA ? a[p * m + i] : a[i * k + p]) * (spec.transB ? b[j * k + p] : b[p * n + j]);
      out[i * n + j] = s + (bias ? bias[j] : 0);
    }
  return out;
}

async function checkMatmulVariant(device: GPUDevice, spec: Omit<MatmulSpec, 'bias'> & { withBias?: boolean }, seed: number): Promise<void> {
  const { m, n, k } = spec;
  const a = randomFloats(m * k, seed);
  const b = randomFloats(k * n, seed + 1);
  const c0 = randomFloats(m * n, seed + 2);
  const bias = spec.withBias ? randomFloats(n, seed + 3) : undefined;
  const got = await withGpuErrors(device, async () => {
    const buffers = [createStorageBuffer(device, a, 'a'), createStorageBuffer(device, b, 'b'), createStorageBuffer(device, c0, 'c')];
    const biasBuffer = bias ? createStorageBuffer(device, bias, 'bias') : undefined;
    const d = matmulDispatch(device, { ...spec, bias: biasBuffer }, buffers[0], buffers[1], buffers[2]);
    const encoder = device.createCommandEncoder();
    encodePass(encoder, [d]);
    device.queue.submit([encoder.finish()]);
    const out = await readFloat32(device, buffers[2], m * n);
    for (const buf of [...buffers, biasBuffer]) buf?.destroy();
    return out;
  });
  const name = `matmul ${spec.transA ? 'T' : 'N'}${spec.transB ? 'T' : 'N'}${spec.accumulate ? '+acc' : ''}${spec.withBias ? '+bias' : ''} ${m}x${k}·${k}x${n} (${kernelStrategy(device)})`;
  checkClose(got, cpuMatmulVariant(spec, a, b, c0, bias), 1e-5 * Math.sqrt(k), name);
}

/** Every transpose/bias/accumulate variant, on shapes that are and are not multiples of 4 and 64. */
async function checkAllMatmulVariants(device: GPUDevice, strategy: KernelStrategy): Promise<void> {
  const previous = kernelStrategy(device);
  setKernelStrategy(device, strategy);
  try {
    let seed = 100;
    for (const [m, n, k] of [
      [68, 44, 20],
      [37, 29, 53],
      [64, 65, 128],
    ]) {
      for (const transA of [false, true])
        for (const transB of [false, true])
          await checkMatmulVariant(device, { m, n, k, transA, transB, accumulate: transA, withBias: !transA && !transB }, seed++);
    }
  } finally {
    setKernelStrategy(device, previous);
  }
}

async function expectGpuError(work: () => Promise<unknown>, kind: GpuError['kind'], what: string): Promise<void> {
  try {
    await work();
  } catch (err) {
    check(err instanceof GpuError, `${what}: threw ${String(err)} instead of a GpuError`);
    check((err as GpuError).kind === kind, `${what}: kind ${(err as GpuError).kind}, want ${kind}`);
    return;
  }
  throw new Error(`${what}: no error was thrown`);
}

/** The selection rule written the slow, obvious way: sort by |x| descending, then index. */
function bruteTopK(values: Float32Array, chunks: readonly TopKChunk[]): number[] {
  return chunks.flatMap((c) => {
    const idx = Array.from({ length: c.rows * c.cols }, (_, j) => j);
    const at = (j: number): number => Math.abs(values[c.offset + Math.floor(j / c.cols) * c.stride + (j % c.cols)]);
    return idx
      .sort((a, b) => at(b) - at(a) || a - b)
      .slice(0, c.k)
      .sort((a, b) => a - b);
  });
}

/** Random values with many exact ties (including ±0 and ±x), over 2-D blocks of a 70×72 matrix. */
async function checkTopK(device: GPUDevice): Promise<void> {
  const values = randomFloats(70 * 72 + 100, 21).map((v, i) => (i % 3 === 0 ? Math.round(v * 4) / 4 : v) * (i % 7 === 0 ? -1 : 1));
  values[5] = -0;
  const chunks: TopKChunk[] = [
    { offset: 0, rows: 64, cols: 64, stride: 72, k: 64 },
    { offset: 64, rows: 64, cols: 8, stride: 72, k: 8 },
    { offset: 64 * 72, rows: 6, cols: 64, stride: 72, k: 6 },
    { offset: 64 * 72 + 64, rows: 6, cols: 8, stride: 72, k: 48 },
    { offset: 70 * 72, rows: 1, cols: 100, stride: 100, k: 1 },
  ];
  const want = bruteTopK(values, chunks);
  const cpu = topKCpu(values, chunks);
  check(cpu.join() === want.join(), 'CPU top-k differs from the brute-force rule');
  const gpu = createGpuTopK(device, chunks, values.length);
  try {
    const got = await gpu.run(values);
    const diff = [...got].findIndex((v, i) => v !== cpu[i]);
    check(diff < 0, `GPU top-k differs from the CPU at output ${diff}: ${got[diff]} vs ${cpu[diff]}`);
  } finally {
    gpu.destroy();
  }
}

export const kernelCases: KernelCase[] = [
  { name: 'chunked top-k on the GPU equals the CPU rule, ties and edge blocks included', run: ({ device }) => checkTopK(device) },
  { name: 'sum reduction of 100003 floats matches the CPU', run: ({ device }) => checkSum(device, 100_003, 1) },
  {
    name: 'sum reduction of awkward sizes (1, 255, 257, 65537) matches the CPU',
    run: async ({ device }) => {
      for (const n of [1, 255, 257, 65_537]) await checkSum(device, n, n);
    },
  },
  {
    name: 'sum reduction is bitwise repeatable',
    run: async ({ device }) => {
      const values = randomFloats(50_000, 7);
      const first = await gpuSum(device, values);
      const second = await gpuSum(device, values);
      check(Object.is(first, second), `two runs differ: ${first} vs ${second}`);
    },
  },
  { name: 'matmul 64x64·64x64 matches the CPU', run: ({ device }) => checkMatmul(device, 64, 64, 64, 11) },
  { name: 'matmul with shapes off the tile grid (37x53·53x29) matches the CPU', run: ({ device }) => checkMatmul(device, 37, 29, 53, 12) },
  { name: 'tiled matmul: every transpose, bias and accumulate variant matches the CPU', run: ({ device }) => checkAllMatmulVariants(device, 'shared') },
  { name: 'direct matmul: every transpose, bias and accumulate variant matches the CPU', run: ({ device }) => checkAllMatmulVariants(device, 'direct') },
  {
    name: 'a kernel spec binds buffers by name in its declared order, and a launch naming a binding wrongly is refused',
    run: async ({ device }) => {
      // Declared out of alphabetical and argument order: only the spec's order may decide the slots.
      const spec = defineKernel({
        name: 'test.axpy',
        bindings: { y: 'rw f32', x: 'read f32', scale: 'read f32' },
        dims: ['n', 'offset'],
        wgsl: `@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  if (i < dims.n) { y[i] = y[i] + scale[0] * x[i] + f32(dims.offset); }
}`,
      });
      check(/@binding\(0\) var<storage, read_write> y: array<f32>;\s*@group\(0\) @binding\(1\) var<storage, read> x/.test(spec.source), spec.source);
      const x = createStorageBuffer(device, Float32Array.from([1, 2, 3]), 'test.x');
      const y = createStorageBuffer(device, Float32Array.from([10, 20, 30]), 'test.y');
      const scale = createStorageBuffer(device, Float32Array.from([2]), 'test.scale');
      try {
        const d = await withGpuErrors(device, async () => spec.dispatch(device, { scale, x, y }, { offset: 100, n: 3 }, 1));
        const encoder = device.createCommandEncoder();
        encodePass(encoder, [d]);
        device.queue.submit([encoder.finish()]);
        const got = Array.from(await readFloat32(device, y, 3));
        check(got.join() === '112,124,136', `y = ${got.join()}, want 112,124,136`);
        const refused = (buffers: Record<string, GPUBuffer>): string => {
          try {
            spec.dispatch(device, buffers as Parameters<typeof spec.dispatch>[1], { n: 3, offset: 0 }, 1);
            return 'accepted';
          } catch (err) {
            return (err as Error).message;
          }
        };
        check(/missing scale/.test(refused({ x, y })), `missing binding: ${refused({ x, y })}`);
        check(/unknown z/.test(refused({ x, y, scale, z: x })), `unknown binding: ${refused({ x, y, scale, z: x })}`);
      } finally {
        for (const b of [x, y, scale]) b.destroy();
      }
    },
  },
  {
    name: 'an invalid WGSL shader becomes a thrown validation GpuError',
    run: ({ device }) =>
      expectGpuError(
        () => withGpuErrors(device, () => device.createShaderModule({ code: '@compute @workgroup_size(1) fn main() { let x: f32 = 1u; }' })),
        'validation',
        'invalid shader',
      ),
  },
  {
    name: 'a bind group with the wrong buffer usage becomes a thrown validation GpuError',
    run: ({ device }) =>
      expectGpuError(
        () =>
          withGpuErrors(device, () => {
            const storageOnly = device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE });
            const layout = device.createBindGroupLayout({ entries: [{ binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform' } }] });
            device.createBindGroup({ layout, entries: [{ binding: 0, resource: { buffer: storageOnly } }] });
          }),
        'validation',
        'wrong buffer usage',
      ),
  },
  {
    name: 'device loss is reported as an event',
    run: async ({ open }) => {
      const ctx = await open();
      const heard = new Promise<string>((resolve) => ctx.onLost((e) => resolve(e.reason)));
      ctx.destroy();
      const reason = await Promise.race([heard, new Promise<string>((resolve) => setTimeout(() => resolve('timeout'), 5000))]);
      check(reason === 'destroyed', `lost event reason: ${reason}`);
    },
  },
];
