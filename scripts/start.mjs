// `npm start`: builds the app and serves it. Later issues add the signaling server,
// a validator and headless peers to this one command.
import { spawn, spawnSync } from 'node:child_process';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gpuEnv } from './env.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const env = { ...gpuEnv(), PATH: `${join(root, 'node_modules', '.bin')}${delimiter}${process.env.PATH}` };

console.log('[tessera] building the app (vite build) ...');
const build = spawnSync('vite', ['build', '--logLevel', 'warn'], { cwd: root, env, stdio: 'inherit' });
if (build.status !== 0) {
  console.error('[tessera] the build failed (see above); nothing is served.');
  process.exit(1);
}
const server = spawn('tsx', [join(root, 'server', 'main.ts'), ...process.argv.slice(2)], { cwd: root, env, stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => server.kill(sig));
server.on('exit', (code) => process.exit(code ?? 0));
