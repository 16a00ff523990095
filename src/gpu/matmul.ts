// Matrix multiply C = A·B (row-major f32) tiled through workgroup memory; shapes need not
// divide the tile. The engine's register-blocked variants build on this layout.
import { bindBuffers, createKernel, createUniformU32, encodeDispatch } from './buffers';

const TILE = 16;

export const MATMUL_WGSL = /* wgsl */ `
struct Dims { m: u32, n: u32, k: u32, pad: u32 }
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<uniform> dims: Dims;

var<workgroup> tileA: array<array<f32, ${TILE}>, ${TILE}>;
var<workgroup> tileB: array<array<f32, ${TILE}>, ${TILE}>;

@compute @workgroup_size(${TILE}, ${TILE})
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let row = wid.y * ${TILE}u + lid.y;
  let col = wid.x * ${TILE}u + lid.x;
  var acc = 0.0;
  let tiles = (dims.k + ${TILE - 1}u) / ${TILE}u;
  for (var t = 0u; t < tiles; t++) {
    let ak = t * ${TILE}u + lid.x;
    let bk = t * ${TILE}u + lid.y;
    // Out-of-range cells load zero, so edge tiles need no special path.
    var av = 0.0;
    if (row < dims.m && ak < dims.k) { av = a[row * dims.k + ak]; }
    var bv = 0.0;
    if (bk < dims.k && col < dims.n) { bv = b[bk * dims.n + col]; }
    tileA[lid.y][lid.x] = av;
    tileB[lid.y][lid.x] = bv;
    workgroupBarrier();
    for (var i = 0u; i < ${TILE}u; i++) {
      acc += tileA[lid.y][i] * tileB[i][lid.x];
    }
    workgroupBarrier();
  }
  if (row < dims.m && col < dims.n) {
    c[row * dims.n + col] = acc;
  }
}`;

export interface MatmulShape {
  m: number;
  n: number;
  k: number;
}

export interface Matmul {
  encode(encoder: GPUCommandEncoder): void;
  destroy(): void;
}

/** Records C[m×n] = A[m×k]·B[k×n] over existing buffers; pipeline and bindings made once. */
export function createMatmul(device: GPUDevice, shape: MatmulShape, a: GPUBuffer, b: GPUBuffer, c: GPUBuffer): Matmul {
  const pipeline = createKernel(device, 'matmul', MATMUL_WGSL);
  const dims = createUniformU32(device, [shape.m, shape.n, shape.k], 'matmul.dims');
  const group = bindBuffers(device, pipeline, 'matmul', [a, b, c, dims]);
  return {
    encode(encoder) {
      encodeDispatch(encoder, pipeline, group, Math.ceil(shape.n / TILE), Math.ceil(shape.m / TILE));
    },
    destroy() {
      dims.destroy();
    },
  };
}
