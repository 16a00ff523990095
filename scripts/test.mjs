// `npm test`: typecheck, lint, build, unit tests (Vitest on Dawn), end-to-end tests
// (Playwright in Debian's Chromium); peer-connection tests run in a private network namespace.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gpuEnv } from './env.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'node_modules', '.bin');
const env = { ...gpuEnv(), PATH: `${bin}${delimiter}${process.env.PATH}`, FORCE_COLOR: process.env.FORCE_COLOR ?? '0' };
const netns = ['node', join(root, 'scripts', 'netns.mjs'), '--'];
const results = join(root, 'test-results');

const steps = [
  { name: 'typecheck', cmd: ['tsc', '--noEmit', '-p', '.'] },
  { name: 'lint', cmd: ['eslint', '--max-warnings=0', '.'] },
  // Prettier's check (line width 160, .prettierrc.json): `npm run format` rewrites the tree.
  { name: 'format', cmd: ['prettier', '--check', '.'] },
  { name: 'build', cmd: ['vite', 'build', '--logLevel', 'warn'] },
  {
    name: 'unit',
    cmd: [...netns, 'vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile=${join(results, 'unit.json')}`],
    report: 'unit.json',
  },
  { name: 'e2e', cmd: [...netns, 'playwright', 'test'], report: 'e2e.json' },
];

function run(cmd) {
  return new Promise((resolve) => {
    const child = spawn(cmd[0], cmd.slice(1), { cwd: root, env, stdio: 'inherit' });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    child.on('error', (err) => {
      console.error(`[test] could not start ${cmd[0]}: ${err.message}`);
      resolve(1);
    });
  });
}

/** Test counts from a runner's JSON report: Vitest's and Playwright's shapes differ. */
function counts(file) {
  const path = join(results, file);
  if (!existsSync(path)) return { passed: 0, failed: 1 };
  const report = JSON.parse(readFileSync(path, 'utf8'));
  if ('numPassedTests' in report)
    return { passed: report.numPassedTests, failed: report.numFailedTests, skipped: report.numPendingTests + report.numTodoTests };
  const s = report.stats ?? {};
  return { passed: (s.expected ?? 0) + (s.flaky ?? 0), failed: s.unexpected ?? 0, skipped: s.skipped ?? 0 };
}

/**
 * Processes of this checkout's (run from it, or naming it) other than this one and its
 * ancestors: after the last step there must be none, or a spec left a server, peer or browser
 * behind to slow the next run down.
 */
function checkoutProcesses() {
  const mine = new Set([process.pid, process.ppid]);
  const found = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || mine.has(Number(entry))) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim();
      const cwd = readlinkSync(`/proc/${entry}/cwd`);
      if (args && (cwd === root || cwd.startsWith(`${root}/`) || args.includes(root))) found.set(Number(entry), args);
    } catch {
      // gone already, or not ours to read
    }
  }
  return found;
}

/** Reports what the steps left running, kills it, and says whether anything was there. */
function reapLeftovers(before) {
  const left = [...checkoutProcesses()].filter(([pid]) => !before.has(pid));
  if (left.length === 0) return false;
  console.error(`\n[test] ${left.length} process(es) left running after the tests (a spec did not clean up):`);
  for (const [pid, args] of left) {
    console.error(`  ${pid} ${args.slice(0, 200)}`);
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // it ended on its own meanwhile
    }
  }
  return true;
}

const only = process.argv.slice(2);
const before = checkoutProcesses();
rmSync(results, { recursive: true, force: true });
const summary = [];
let total = { passed: 0, failed: 0, skipped: 0 };
for (const step of steps.filter((s) => only.length === 0 || only.includes(s.name))) {
  console.log(`\n=== ${step.name}: ${step.cmd.join(' ')}`);
  const started = Date.now();
  const code = await run(step.cmd);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const c = step.report ? counts(step.report) : { passed: code === 0 ? 1 : 0, failed: code === 0 ? 0 : 1, skipped: 0 };
  // A runner that crashed before writing its report still fails the step.
  if (code !== 0 && c.failed === 0) c.failed = 1;
  total = { passed: total.passed + c.passed, failed: total.failed + c.failed, skipped: total.skipped + (c.skipped ?? 0) };
  summary.push(`${step.name.padEnd(10)} ${code === 0 ? 'ok  ' : 'FAIL'} ${seconds}s${step.report ? ` (${c.passed} passed, ${c.failed} failed)` : ''}`);
}
// Give children a moment to finish exiting before anything still alive counts as left behind.
await new Promise((r) => setTimeout(r, 2000));
if (reapLeftovers(before)) {
  total.failed += 1;
  summary.push('leftovers FAIL (processes listed above)');
} else summary.push('leftovers ok   (no process left running)');
console.log(`\n=== summary\n${summary.join('\n')}`);
console.log(`${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
process.exit(total.failed === 0 ? 0 : 1);
