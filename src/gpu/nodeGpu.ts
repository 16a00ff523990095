// Node-only entry to WebGPU: Dawn from the `webgpu` package, pointed at SwiftShader's Vulkan
// driver when no other is configured. Never imported by browser code.
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create, globals } from 'webgpu';

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

let gpu: GPU | undefined;

/** The process-wide Dawn GPU object; installs WebGPU's global constants (GPUBufferUsage, ...). */
export function nodeGpu(): GPU {
  if (gpu) return gpu;
  // The Vulkan loader reads these when Dawn creates its instance, so set them first.
  if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  if (!process.env.XDG_RUNTIME_DIR) {
    // Vulkan's loader complains on every start without a writable runtime directory.
    const dir = join(tmpdir(), `tessera-xdg-${process.getuid?.() ?? 0}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    process.env.XDG_RUNTIME_DIR = dir;
  }
  Object.assign(globalThis, globals);
  gpu = create([]);
  return gpu;
}
