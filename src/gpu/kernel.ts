// Kernels as specs (after webgpu-torch's op registry): each names its bindings and uniform fields
// once; the WGSL declarations and the bind group are both generated from that one list.
import { createKernel, createUniformU32, type Binding, type Dispatch } from './buffers';

/**
 * A storage or uniform binding: `read T` and `rw T` are `array<T>` in storage (read-only or
 * read_write); `uniform T` is a uniform of struct T that the kernel's WGSL defines and the
 * caller writes (AdamW's per-step hyperparameters).
 */
export type BindingType = `read ${string}` | `rw ${string}` | `uniform ${string}`;

export interface KernelSpec<B extends Partial<Record<string, BindingType>>, U extends string> {
  /** Pipeline label, and the prefix of the uniform buffer's label. */
  name: string;
  /** In binding order; the key is the WGSL variable's name. */
  bindings: B;
  /**
   * u32 shape fields, in order: a `struct Dims` and a uniform `dims` bound after the buffers;
   * the dispatch packs them from named values, so field order cannot drift either.
   */
  dims?: readonly U[];
  /** Everything else of the module: structs, constants, helpers and `main` (module order is free in WGSL). */
  wgsl: string;
}

export interface Kernel<B extends Partial<Record<string, BindingType>>, U extends string> {
  readonly spec: KernelSpec<B, U>;
  /** The whole WGSL module: generated declarations, then the spec's code. */
  readonly source: string;
  /** A recorded launch over named buffers and shape values; each binding must be given exactly once. */
  dispatch(device: GPUDevice, buffers: { [K in keyof B]: Binding }, dims: Record<U, number>, x: number, y?: number, z?: number): Dispatch;
}

const STORAGE = { read: 'read', rw: 'read_write' } as const;

function declarations(spec: KernelSpec<Partial<Record<string, BindingType>>, string>): string {
  const lines = Object.entries(spec.bindings).map(([name, type], binding) => {
    const [access, inner] = (type as string).split(' ') as [keyof typeof STORAGE | 'uniform', string];
    const variable = access === 'uniform' ? `var<uniform> ${name}: ${inner}` : `var<storage, ${STORAGE[access]}> ${name}: array<${inner}>`;
    return `@group(0) @binding(${binding}) ${variable};`;
  });
  if (spec.dims?.length) {
    lines.push(`struct Dims { ${spec.dims.map((f) => `${f}: u32`).join(', ')} }`);
    lines.push(`@group(0) @binding(${lines.length - 1}) var<uniform> dims: Dims;`);
  }
  return lines.join('\n');
}

export function defineKernel<const B extends Partial<Record<string, BindingType>>, const U extends string = never>(spec: KernelSpec<B, U>): Kernel<B, U> {
  for (const [name, type] of Object.entries(spec.bindings))
    if (!/^[A-Za-z_]\w*$/.test(name) || !/^(read|rw|uniform) [\w<>]+$/.test(String(type)))
      throw new Error(`${spec.name}: bad binding ${name}: ${String(type)}`);
  // `dims` and `Dims` are generated from spec.dims: a binding or struct of that name would clash.
  if (spec.dims?.length && ('dims' in spec.bindings || /\bstruct\s+Dims\b/.test(spec.wgsl)))
    throw new Error(`${spec.name}: dims and struct Dims are generated from spec.dims`);
  const source = `${declarations(spec)}\n${spec.wgsl}`;
  const names = Object.keys(spec.bindings);
  return {
    spec,
    source,
    dispatch(device, buffers, dims, x, y = 1, z = 1) {
      const given = buffers as Record<string, Binding | undefined>;
      const extra = Object.keys(given).filter((k) => !names.includes(k));
      const missing = names.filter((k) => given[k] === undefined);
      if (extra.length || missing.length)
        throw new Error(`${spec.name}: ${missing.length ? `missing ${missing.join(', ')}` : ''}${extra.length ? ` unknown ${extra.join(', ')}` : ''}`);
      const entries: Binding[] = names.map((k) => given[k] as Binding);
      let uniform: GPUBuffer | undefined;
      if (spec.dims?.length) {
        const values = dims as Record<string, number>;
        for (const f of spec.dims)
          if (!Number.isInteger(values[f]) || values[f] < 0 || values[f] > 0xffffffff)
            throw new RangeError(`${spec.name}: dims.${f} must be a u32, got ${values[f]}`);
        entries.push(
          (uniform = createUniformU32(
            device,
            spec.dims.map((f) => values[f]),
            `${spec.name}.dims`,
          )),
        );
      }
      const pipeline = createKernel(device, spec.name, source);
      const group = device.createBindGroup({
        label: spec.name,
        layout: pipeline.getBindGroupLayout(0),
        entries: entries.map((b, binding) => ({ binding, resource: 'buffer' in b ? b : { buffer: b } })),
      });
      return { pipeline, group, workgroups: [x, y, z], dims: uniform };
    },
  };
}
