// Matrix multiply for every linear layer, forward and backward: C (+)= op(A)·op(B) (+ bias),
// 64×64 output tiles staged through workgroup memory from vec4 loads, 4×4 outputs per thread.
import { encodePass, type Binding, type Dispatch } from './buffers';
import { defineKernel, type BindingType } from './kernel';
import { kernelStrategy } from './strategy';

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
/**
 * Direct kernel: 8 rows × 4 columns per thread, 8×8 threads. On SwiftShader (bench:profile,
 * shakespeare 1×32) this ran forward+backward in 4.8 s against 6.3 s for 4 rows × 16×16.
 */
const DIRECT_ROWS = 8;
const DIRECT_WG = 8;

/** How one operand's tile is fetched: vec4 loads need its contiguous dimension to be a multiple of 4. */
export interface MatmulVariant {
  transA?: boolean;
  transB?: boolean;
  accumulate?: boolean;
  bias: boolean;
  vecA: boolean;
  vecB: boolean;
}

// Tile loads. As is k-major (As[kk][i/4] holds rows i..i+3 of column kk), Bs likewise
// (Bs[kk][j/4] holds columns j..j+3 of row kk); 256 threads fill 64×16 and 16×64 tiles.
function loadATile(v: MatmulVariant): string {
  if (v.vecA && !v.transA) {
    // Rows of A are contiguous in k: one vec4 of 4 consecutive k per thread, scattered to 4 columns.
    return `{
      let i = tid / 4u; let kq = tid % 4u; let k = k0 + kq * 4u;
      var q = vec4<f32>();
      if (m0 + i < dims.m && k < dims.k) { q = a[((m0 + i) * dims.k + k) / 4u]; }
      for (var j = 0u; j < 4u; j++) { As[(kq * 4u + j) * ${BM / 4}u + i / 4u][i % 4u] = q[j]; }
    }`;
  }
  if (v.vecA && v.transA) {
    return `{
      let kk = tid / 16u; let iq = tid % 16u; let k = k0 + kk; let m = m0 + iq * 4u;
      var q = vec4<f32>();
      if (k < dims.k && m < dims.m) { q = a[(k * dims.m + m) / 4u]; }
      As[kk * ${BM / 4}u + iq] = q;
    }`;
  }
  const map = v.transA ? `let kk = e / ${BM}u; let i = e % ${BM}u;` : `let i = e / ${BK}u; let kk = e % ${BK}u;`;
  const index = v.transA ? 'k * dims.m + m' : 'm * dims.k + k';
  return `for (var j = 0u; j < 4u; j++) {
      let e = tid + j * 256u;
      ${map}
      let m = m0 + i; let k = k0 + kk;
      var x = 0.0;
      if (m < dims.m && k < dims.k) { x = a[${index}]; }
      As[kk * ${BM / 4}u + i / 4u][i % 4u] = x;
    }`;
}

function loadBTile(v: MatmulVariant): string {
  if (v.vecB && !v.transB) {
    return `{
      let kb = tid / 16u; let jq = tid % 16u; let k = k0 + kb; let n = n0 + jq * 4u;
      var q = vec4<f32>();
      if (k < dims.k && n < dims.n) { q = b[(k * dims.n + n) / 4u]; }
      Bs[kb * ${BN / 4}u + jq] = q;
    }`;
  }
  if (v.vecB && v.transB) {
    return `{
      let jn = tid / 4u; let kq = tid % 4u; let k = k0 + kq * 4u;
      var q = vec4<f32>();
      if (n0 + jn < dims.n && k < dims.k) { q = b[((n0 + jn) * dims.k + k) / 4u]; }
      for (var j = 0u; j < 4u; j++) { Bs[(kq * 4u + j) * ${BN / 4}u + jn / 4u][jn % 4u] = q[j]; }
    }`;
  }
  const map = v.transB ? `let jn = e / ${BK}u; let kb = e % ${BK}u;` : `let kb = e / ${BN}u; let jn = e % ${BN}u;`;
  const index = v.transB ? 'n * dims.k + k' : 'k * dims.n + n';
  return `for (var j = 0u; j < 4u; j++) {
      let e = tid + j * 256u;
      ${map}
      let n = n0 + jn; let k = k0 + kb;
      var x = 0.0;
      if (k < dims.k && n < dims.n) { x = b[${index}]; }
      Bs[kb * ${BN / 4}u + jn / 4u][jn % 4u] = x;
    }`;
}

/** a, b (vec4 where their contiguous dimension allows), c, and the fused bias when there is one. */
function matmulBindings(vecA: boolean, vecB: boolean, bias: boolean): { a: BindingType; b: BindingType; c: BindingType; bias?: BindingType } {
  const base = { a: vecA ? 'read vec4<f32>' : 'read f32', b: vecB ? 'read vec4<f32>' : 'read f32', c: 'rw f32' } as const;
  return bias ? { ...base, bias: 'read f32' } : base;
}

const MATMUL_DIMS = ['m', 'n', 'k'] as const;

export const matmulKernel = (v: MatmulVariant, label: string) =>
  defineKernel({
    name: label,
    bindings: matmulBindings(v.vecA, v.vecB, v.bias),
    dims: MATMUL_DIMS,
    wgsl: /* wgsl */ `
var<workgroup> As: array<vec4<f32>, ${(BK * BM) / 4}>;
var<workgroup> Bs: array<vec4<f32>, ${(BK * BN) / 4}>;

@compute @workgroup_size(16, 16)
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let tid = lid.y * 16u + lid.x;
  let m0 = wid.y * ${BM}u;
  let n0 = wid.x * ${BN}u;
  var acc: array<vec4<f32>, 4>;
  for (var k0 = 0u; k0 < dims.k; k0 += ${BK}u) {
    ${loadATile(v)}
    ${loadBTile(v)}
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
        var x = acc[r][q];
        ${v.bias ? 'x += bias[col];' : ''}
        ${v.accumulate ? 'x += c[row * dims.n + col];' : ''}
        c[row * dims.n + col] = x;
      }
    }
  }
}`,
  });

/**
 * Register-blocked matmul without workgroup memory: each thread reads its 8×4 block's
 * operands straight from storage as vec4s. Software adapters (SwiftShader) emulate
 * workgroup barriers on the CPU at great cost, and this runs ~3× faster there.
 * Needs k and n multiples of 4, and m too when A is transposed.
 */
export function matmulDirectKernel(v: Omit<MatmulVariant, 'vecA' | 'vecB'>, label: string) {
  // Rows are clamped rather than branched on: out-of-range rows compute garbage never stored.
  const aBlock = v.transA
    ? `for (var kk = 0u; kk < 4u; kk++) {
        for (var g = 0u; g < ${DIRECT_ROWS / 4}u; g++) {
          let col = a[((k + kk) * dims.m + min(r0 + 4u * g, dims.m - 4u)) / 4u];
          ar[4u * g][kk] = col.x; ar[4u * g + 1u][kk] = col.y; ar[4u * g + 2u][kk] = col.z; ar[4u * g + 3u][kk] = col.w;
        }
      }`
    : `for (var r = 0u; r < ${DIRECT_ROWS}u; r++) { ar[r] = a[(min(r0 + r, dims.m - 1u) * dims.k + k) / 4u]; }`;
  const bBlock = v.transB
    ? `for (var q = 0u; q < 4u; q++) {
        let row = b[(min(c0 + q, dims.n - 1u) * dims.k + k) / 4u];
        br[0][q] = row.x; br[1][q] = row.y; br[2][q] = row.z; br[3][q] = row.w;
      }`
    : `for (var kk = 0u; kk < 4u; kk++) { br[kk] = b[((k + kk) * dims.n + c0) / 4u]; }`;
  return defineKernel({
    name: `${label} direct`,
    bindings: matmulBindings(true, true, v.bias),
    dims: MATMUL_DIMS,
    wgsl: /* wgsl */ `
@compute @workgroup_size(${DIRECT_WG}, ${DIRECT_WG})
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let r0 = gid.y * ${DIRECT_ROWS}u;
  let c0 = gid.x * 4u;
  if (r0 >= dims.m || c0 >= dims.n) { return; }
  var acc: array<vec4<f32>, ${DIRECT_ROWS}>;
  var ar: array<vec4<f32>, ${DIRECT_ROWS}>; // ar[r][kk] = A[r0 + r, k + kk]
  var br: array<vec4<f32>, 4>; // br[kk][q] = B[k + kk, c0 + q]
  for (var k = 0u; k < dims.k; k += 4u) {
    ${aBlock}
    ${bBlock}
    for (var r = 0u; r < ${DIRECT_ROWS}u; r++) {
      acc[r] += ar[r].x * br[0] + ar[r].y * br[1] + ar[r].z * br[2] + ar[r].w * br[3];
    }
  }
  for (var r = 0u; r < ${DIRECT_ROWS}u; r++) {
    let row = r0 + r;
    for (var q = 0u; q < 4u; q++) {
      if (row < dims.m) {
        var x = acc[r][q];
        ${v.bias ? 'x += bias[c0 + q];' : ''}
        ${v.accumulate ? 'x += c[row * dims.n + c0 + q];' : ''}
        c[row * dims.n + c0 + q] = x;
      }
    }
  }
}`,
  });
}

function fitsDirect(spec: MatmulSpec): boolean {
  return spec.k % 4 === 0 && spec.n % 4 === 0 && (!spec.transA || spec.m % 4 === 0);
}

/** Records C (+)= op(A)·op(B) (+ bias) over existing bindings; compiled and bound once. */
export function matmulDispatch(device: GPUDevice, spec: MatmulSpec, a: Binding, b: Binding, c: Binding): Dispatch {
  // Each operand's contiguous dimension decides whether its loads can be vec4.
  const vecA = (spec.transA ? spec.m : spec.k) % 4 === 0;
  const vecB = (spec.transB ? spec.k : spec.n) % 4 === 0;
  const variant = { transA: spec.transA, transB: spec.transB, accumulate: spec.accumulate, bias: spec.bias !== undefined, vecA, vecB };
  const label = `matmul${spec.transA ? 'T' : 'N'}${spec.transB ? 'T' : 'N'}${spec.accumulate ? '+acc' : ''}${spec.bias ? '+bias' : ''}${vecA ? '' : ' scalarA'}${vecB ? '' : ' scalarB'}`;
  const direct = kernelStrategy(device) === 'direct' && fitsDirect(spec);
  const buffers = spec.bias ? { a, b, c, bias: spec.bias } : { a, b, c };
  const dims = { m: spec.m, n: spec.n, k: spec.k };
  if (direct)
    return matmulDirectKernel(variant, label).dispatch(
      device,
      buffers,
      dims,
      Math.ceil(spec.n / (4 * DIRECT_WG)),
      Math.ceil(spec.m / (DIRECT_ROWS * DIRECT_WG)),
    );
  return matmulKernel(variant, label).dispatch(device, buffers, dims, Math.ceil(spec.n / BN), Math.ceil(spec.m / BM));
}

export const BIAS_GRAD = defineKernel({
  name: 'biasGrad',
  bindings: { dout: 'read f32', dbias: 'rw f32' },
  dims: ['rows', 'cols'],
  wgsl: /* wgsl */ `
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
}`,
});

/** Records dbias[c] += Σ_rows dout[r, c]: the bias gradient of a linear layer. */
export function biasGradDispatch(device: GPUDevice, rows: number, cols: number, dout: Binding, dbias: Binding): Dispatch {
  return BIAS_GRAD.dispatch(device, { dout, dbias }, { rows, cols }, Math.ceil(cols / 64));
}

export interface Matmul {
  encode(encoder: GPUCommandEncoder): void;
}

/** Standalone C = A·B over whole buffers, for tests and benchmarks. */
export function createMatmul(device: GPUDevice, shape: Pick<MatmulSpec, 'm' | 'n' | 'k'>, a: GPUBuffer, b: GPUBuffer, c: GPUBuffer): Matmul {
  const d = matmulDispatch(device, shape, a, b, c);
  return { encode: (encoder) => encodePass(encoder, [d], 'matmul') };
}
