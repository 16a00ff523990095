// Where this machine's real runtimes live (Debian's Chromium, SwiftShader's Vulkan ICD)
// and the environment every GPU-using child process needs. Plain Node, no dependencies.
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Debian's chromium binary; never a downloaded browser. Override with TESSERA_CHROMIUM. */
export const CHROMIUM = process.env.TESSERA_CHROMIUM ?? '/usr/bin/chromium';

/** SwiftShader's Vulkan driver as shipped by Debian's chromium package. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** Vulkan loader paths Dawn dlopen()s; Debian's libvulkan1 provides them. */
const VULKAN_LOADERS = ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib/aarch64-linux-gnu/libvulkan.so.1', '/usr/lib/libvulkan.so.1'];

export function hasVulkanLoader() {
  return VULKAN_LOADERS.some((p) => existsSync(p));
}

/**
 * Environment for processes that open a Dawn (Node) WebGPU device. A Vulkan ICD the
 * user already chose wins; otherwise SwiftShader, so machines without a GPU still work.
 */
export function gpuEnv(base = process.env) {
  const env = { ...base };
  if (!env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  if (!env.XDG_RUNTIME_DIR) {
    // Vulkan warns on every start without a writable runtime dir.
    const dir = join(tmpdir(), `tessera-xdg-${process.getuid?.() ?? 0}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    env.XDG_RUNTIME_DIR = dir;
  }
  return env;
}

/** Flags every Chromium launch uses: no sandbox as root, no background traffic. */
export const CHROMIUM_BASE_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-default-apps',
  '--disable-quic',
];

/** Flags that give headless Chromium a WebGPU adapter (SwiftShader without a GPU). */
export const CHROMIUM_WEBGPU_ARGS = ['--enable-unsafe-webgpu'];

/** Flags that let WebRTC gather plain host candidates inside the private namespace. */
export const CHROMIUM_WEBRTC_ARGS = ['--disable-features=WebRtcHideLocalIpsWithMdns'];
