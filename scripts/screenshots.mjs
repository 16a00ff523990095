// `npm run screenshots`: runs e2e/screenshots.spec.ts (a live local swarm in the private
// network namespace) and leaves docs/screenshots/*.png: three pages at desktop and phone sizes.
import { spawn } from 'node:child_process';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gpuEnv } from './env.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const env = { ...gpuEnv(), PATH: `${join(root, 'node_modules', '.bin')}${delimiter}${process.env.PATH}`, TESSERA_SCREENSHOTS: '1' };
const child = spawn('node', [join(root, 'scripts', 'netns.mjs'), '--', 'playwright', 'test', 'e2e/screenshots.spec.ts'], { cwd: root, env, stdio: 'inherit' });
child.on('exit', (code) => {
  if (code === 0) console.log('[screenshots] wrote docs/screenshots/{dashboard,volunteer,wallet}-{desktop,phone}.png');
  process.exit(code ?? 1);
});
