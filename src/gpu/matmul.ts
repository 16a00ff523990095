// Matrix multiply for every linear layer, forward and backward: C (+)= op(A)·op(B) (+ bias),
// 64×64 output tiles staged through workgroup memory, 4×4 outputs per thread in vec4 registers.
import { createKernel, createUniformU32, dispatch, encodePass, type Binding, type Dispatch } from './buffers';

export interface MatmulSpec {
  /** Output rows, output columns, and the shared inner dimension. */
  m: number;
  n: number;
  k: number;
  /** A is stored [k, m] instead of [m, k] (weight gradients: inputᵀ·dout). */
  transA?: boolean;
  /** B is stored [n, k] instead of [k, n] (input gradients: dout·Wᵀ; the tied head). */
  transB?: boolean;
  /** Add C's previous contents: gradient accumulation across microbatches and tied weights. */
  accumulate?: boolean;
  /** Per-column bias added to the result (fused, saves a pass over C). */
  bias?: Binding;
}

const BM = 64;
const BN = 64;
const BK = 16;

export function matmulWgsl(spec: Pick<MatmulSpec, 'transA' | 'transB' | 'accumulate'> & { bias: boolean }): string {
  const aIndex = spec.transA ? 'col * dims.m + row' : 'row * dims.k + col';
  const bIndex = spec.transB ? 'col * dims.k + row' : 'row * dims.n + col';
  // Thread→element maps chosen so neighbouring threads read neighbouring addresses.
  const aMap = spec.transA ? `let kk = e / ${BM}u; let i = e % ${BM}u;` : `let i = e / ${BK}u; let kk = e % ${BK}u;`;
  const bMap = spec.transB ? `let jn = e / ${BK}u; let kb = e % ${BK}u;` : `let kb = e / ${BN}u; let jn = e % ${BN}u;`;
  return /* wgsl */ `
struct Dims { m: u32, n: u32, k: u32, pad: u32 }
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<uniform> dims: Dims;
${spec.bias ? '@group(0) @binding(4) var<storage, read> bias: array<f32>;' : ''}

// Tiles stored k-major as vec4s: As[kk][i/4] holds rows i..i+3 of column kk.
var<workgroup> As: array<vec4<f32>, ${(BK * BM) / 4}>;
var<workgroup> Bs: array<vec4<f32>, ${(BK * BN) / 4}>;

fn loadA(row: u32, col: u32) -> f32 {
  if (row >= dims.m || col >= dims.k) { return 0.0; }
  return a[${aIndex}];
}

fn loadB(row: u32, col: u32) -> f32 {
  if (row >= dims.k || col >= dims.n) { return 0.0; }
  return b[${bIndex}];
}

@compute @workgroup_size(16, 16)
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let tid = lid.y * 16u + lid.x;
  let m0 = wid.y * ${BM}u;
  let n0 = wid.x * ${BN}u;
  var acc: array<vec4<f32>, 4>;
  for (var k0 = 0u; k0 < dims.k; k0 += ${BK}u) {
    for (var j = 0u; j < ${(BM * BK) / 256}u; j++) {
      let e = tid + j * 256u;
      ${aMap}
      As[kk * ${BM / 4}u + i / 4u][i % 4u] = loadA(m0 + i, k0 + kk);
      ${bMap}
      Bs[kb * ${BN / 4}u + jn / 4u][jn % 4u] = loadB(k0 + kb, n0 + jn);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${BK}u; kk++) {
      let av = As[kk * ${BM / 4}u + lid.y];
      let bv = Bs[kk * ${BN / 4}u + lid.x];
      acc[0] += av.x * bv;
      acc[1] += av.y * bv;
      acc[2] += av.z * bv;
      acc[3] += av.w * bv;
    }
    workgroupBarrier();
  }
  for (var r = 0u; r < 4u; r++) {
    let row = m0 + lid.y * 4u + r;
    for (var q = 0u; q < 4u; q++) {
      let col = n0 + lid.x * 4u + q;
      if (row < dims.m && col < dims.n) {
        var v = acc[r][q];
        ${spec.bias ? 'v += bias[col];' : ''}
        ${spec.accumulate ? 'v += c[row * dims.n + col];' : ''}
        c[row * dims.n + col] = v;
      }
    }
  }
}`;
}

/** Records C (+)= op(A)·op(B) (+ bias) over existing bindings; compiled and bound once. */
export function matmulDispatch(device: GPUDevice, spec: MatmulSpec, a: Binding, b: Binding, c: Binding): Dispatch {
  const variant = { transA: spec.transA, transB: spec.transB, accumulate: spec.accumulate, bias: spec.bias !== undefined };
  const label = `matmul${spec.transA ? 'T' : 'N'}${spec.transB ? 'T' : 'N'}${spec.accumulate ? '+acc' : ''}${spec.bias ? '+bias' : ''}`;
  const pipeline = createKernel(device, label, matmulWgsl(variant));
  const dims = createUniformU32(device, [spec.m, spec.n, spec.k], `${label}.dims`);
  const bindings = spec.bias ? [a, b, c, dims, spec.bias] : [a, b, c, dims];
  return dispatch(device, pipeline, bindings, Math.ceil(spec.n / BN), Math.ceil(spec.m / BM));
}

export const BIAS_GRAD_WGSL = /* wgsl */ `
struct Dims { rows: u32, cols: u32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<storage, read> dout: array<f32>;
@group(0) @binding(1) var<storage, read_write> dbias: array<f32>;
@group(0) @binding(2) var<uniform> dims: Dims;

var<workgroup> partial: array<f32, 256>;

// 64 columns × 4 row lanes per workgroup; lanes stride over rows, then a fixed-order sum.
@compute @workgroup_size(64, 4)
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let col = wid.x * 64u + lid.x;
  var acc = 0.0;
  if (col < dims.cols) {
    for (var r = lid.y; r < dims.rows; r += 4u) {
      acc += dout[r * dims.cols + col];
    }
  }
  partial[lid.y * 64u + lid.x] = acc;
  workgroupBarrier();
  if (lid.y == 0u && col < dims.cols) {
    let sum = (partial[lid.x] + partial[64u + lid.x]) + (partial[128u + lid.x] + partial[192u + lid.x]);
    dbias[col] += sum;
  }
}`;

/** Records dbias[c] += Σ_rows dout[r, c]: the bias gradient of a linear layer. */
export function biasGradDispatch(device: GPUDevice, rows: number, cols: number, dout: Binding, dbias: Binding): Dispatch {
  const pipeline = createKernel(device, 'biasGrad', BIAS_GRAD_WGSL);
  const dims = createUniformU32(device, [rows, cols], 'biasGrad.dims');
  return dispatch(device, pipeline, [dout, dbias, dims], Math.ceil(cols / 64));
}

export interface Matmul {
  encode(encoder: GPUCommandEncoder): void;
}

/** Standalone C = A·B over whole buffers, for tests and benchmarks. */
export function createMatmul(device: GPUDevice, shape: Pick<MatmulSpec, 'm' | 'n' | 'k'>, a: GPUBuffer, b: GPUBuffer, c: GPUBuffer): Matmul {
  const d = matmulDispatch(device, shape, a, b, c);
  return { encode: (encoder) => encodePass(encoder, [d], 'matmul') };
}
