#!/usr/bin/env node
// The `tessera` command: runs the TypeScript CLI (src/node/tessera.ts) through tsx, with the
// environment Dawn needs for a software Vulkan driver when there is no GPU.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gpuEnv } from '../scripts/env.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// `tessera serve …` is the server (app + signaling + TURN credentials); the rest is the CLI.
const [entry, args] =
  process.argv[2] === 'serve'
    ? [join(root, 'src', 'node', 'serve.ts'), process.argv.slice(3)]
    : [join(root, 'src', 'node', 'tessera.ts'), process.argv.slice(2)];
const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), entry, ...args], {
  cwd: process.cwd(),
  env: { ...process.env, ...gpuEnv() },
  stdio: 'inherit',
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
