// Builds the web app and configures Vitest (Node tests on a real Dawn device).
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  plugins: [react()],
  // simple-peer and its stream dependencies expect Node's `global`.
  define: { global: 'globalThis' },
  // The app needs onnxruntime's CPU (wasm) backend only: its 14 MB build, not the 28 MB one with
  // WebGPU. Node (Vitest, the validator) keeps the package's own Node entry.
  resolve: { alias: process.env.VITEST ? [] : [{ find: /^onnxruntime-web$/, replacement: 'onnxruntime-web/wasm' }] },
  server: { host: '127.0.0.1', strictPort: true },
  preview: { host: '127.0.0.1', strictPort: true },
  build: { target: 'es2022', sourcemap: true },
  worker: { format: 'es' },
  test: {
    include: ['test/**/*.test.ts'],
    // Native addons (Dawn, wrtc) are safest in child processes, one per file.
    pool: 'forks',
    // Two files at a time even on 2 cores (Vitest's default there is 1): the swarm files wait
    // on window clocks far more than they compute, so they overlap the compute-bound ones.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    environment: 'node',
  },
});
