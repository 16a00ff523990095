// Node-only entry to WebGPU: Dawn from the `webgpu` package, pointed at SwiftShader's Vulkan
// driver when no other is configured. Never imported by browser code.
import { existsSync } from 'node:fs';
import { create, globals } from 'webgpu';

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

let gpu: GPU | undefined;

/** The process-wide Dawn GPU object; installs WebGPU's global constants (GPUBufferUsage, ...). */
export function nodeGpu(): GPU {
  if (gpu) return gpu;
  // The Vulkan loader reads these when Dawn creates its instance, so set them first.
  if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  Object.assign(globalThis, globals);
  gpu = create([]);
  return gpu;
}
