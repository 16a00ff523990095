// `npm start`: builds the app, then runs a whole local swarm: the server (app + signaling on
// one port), a fresh run (run.json and keys under runs/), a validator and two headless tiny
// peers. Prints the URL; Ctrl-C stops every process. `-- --port N` / PORT=N picks the port;
// `-- --no-swarm` serves the app alone; `-- --window-ms N --grace-ms N --start-in-ms N` change
// the run's timing; `-- --no-build` serves the dist/ already built.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gpuEnv } from './env.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const env = { ...gpuEnv(), PATH: `${join(root, 'node_modules', '.bin')}${delimiter}${process.env.PATH}` };
const args = process.argv.slice(2);
const SWITCHES = ['--no-swarm', '--no-build'];
const VALUED = ['--port', '--window-ms', '--grace-ms', '--start-in-ms'];

/** The flags given, each checked: an unknown flag or a missing number stops before anything runs. */
function parseArgs() {
  const flags = new Map();
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (SWITCHES.includes(a)) flags.set(a, true);
    else if (VALUED.includes(a)) {
      const v = args[++i];
      if (v === undefined || !/^\d+$/.test(v)) usage(`${a} needs a whole number, got ${v ?? 'nothing'}`);
      flags.set(a, v);
    } else usage(`unknown option ${a}`);
  }
  return flags;
}

function usage(why) {
  console.error(`[tessera] ${why}\n  npm start -- [--port N] [--no-swarm] [--no-build] [--window-ms N] [--grace-ms N] [--start-in-ms N]`);
  process.exit(2);
}

const flags = parseArgs();
const port = flags.get('--port') ?? process.env.PORT ?? '8080';
const appOnly = flags.has('--no-swarm');
const windowMs = flags.get('--window-ms') ?? '30000';
const graceMs = flags.get('--grace-ms') ?? '5000';
const startInMs = flags.get('--start-in-ms') ?? '8000';

if (flags.has('--no-build')) console.log('[tessera] serving the app already built in dist/ (--no-build)');
else {
  console.log('[tessera] building the app (vite build) ...');
  const build = spawnSync('vite', ['build', '--logLevel', 'warn'], { cwd: root, env, stdio: 'inherit' });
  if (build.status !== 0) {
    console.error('[tessera] the build failed (see above); nothing is served.');
    process.exit(1);
  }
}

const children = [];
let stopping = false;
function run(name, argv) {
  const child = spawn(process.execPath, argv, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const prefix = (chunk) =>
    chunk
      .toString()
      .split('\n')
      .filter((l) => l && !l.includes('Unknown user config'))
      .forEach((l) => {
        console.log(name === 'server' ? l : `  ${l}`);
        if (name === 'server' && l.includes('app ready at') && !appOnly)
          console.log(`[tessera] the run's dashboard: http://127.0.0.1:${port}/dashboard (its first point comes when window 0 closes)`);
      });
  child.stdout.on('data', prefix);
  child.stderr.on('data', prefix);
  child.on('exit', (code) => {
    if (!stopping) {
      console.error(`[tessera] ${name} exited (${code}); stopping everything`);
      stop(1);
    }
  });
  children.push(child);
  return child;
}

function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  // The timer below is unref'd: when every child has gone, Node ends on its own, with this code.
  process.exitCode = code;
  for (const c of children) c.kill('SIGTERM');
  // Anything still running after the grace period is killed outright: no orphans.
  setTimeout(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    process.exit(code);
  }, 3000).unref();
}
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => stop(0));

// The CLI runs in-process under tsx (not through bin/tessera.mjs), so a kill reaches it directly.
const tsx = import.meta.resolve('tsx');
const tessera = join(root, 'src', 'node', 'tessera.ts');
if (appOnly) run('server', ['--import', tsx, join(root, 'src', 'node', 'serve.ts'), '--port', port]);
else {
  const dir = join(root, 'runs', `local-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  mkdirSync(dir, { recursive: true });
  // Unit mode, 2-step units: a software adapter's few steps a window still add up to proof
  // (evidence pools across windows), so the wallet peer earns (docs/VALIDATOR.md, "Work units").
  const init = spawnSync(
    process.execPath,
    ['--import', tsx, tessera, 'init-run', '--out', dir, '--window-ms', windowMs, '--grace-ms', graceMs, '--start-in-ms', startInMs, '--unit-steps', '2'],
    { cwd: root, env, encoding: 'utf8' },
  );
  if (init.status !== 0) {
    console.error(init.stderr || init.stdout);
    stop(1);
  } else {
    for (const p of ['peer-1', 'peer-2']) spawnSync(process.execPath, ['--import', tsx, tessera, 'keygen', '--out', join(dir, `${p}.key`)], { cwd: root, env });
    // peer-1 earns for Substrate's well-known development account //Alice (a demo wallet with
    // a public secret, never for real funds); peer-2 trains anonymously.
    writeFileSync(join(dir, 'peer-1.wallet'), '//Alice\n', { mode: 0o600 });
    const signal = `ws://127.0.0.1:${port}/signal`;
    const runFile = join(dir, 'run.json');
    // The server publishes the run at /api/run, so a tab opened at the URL can join it.
    const statusPort = String(Number(port) + 1);
    run('server', [
      '--import',
      tsx,
      join(root, 'src', 'node', 'serve.ts'),
      '--port',
      port,
      '--run',
      runFile,
      '--validator-status',
      `http://127.0.0.1:${statusPort}/status`,
    ]);
    console.log(
      `[tessera] local run in ${dir}: a validator and two tiny peers, windows of ${Number(windowMs) / 1000} s starting in ${Number(startInMs) / 1000} s`,
    );
    // Scoring costs about 5 s of CPU per candidate (192 sequences of 64 tokens): two per 30 s
    // window, one for shorter ones, so short demo windows (the e2e spec's 10 s) leave the
    // peers the CPU they need instead of starving their start on a 2-core machine.
    const scoreMax = String(Math.max(1, Math.min(2, Math.floor(Number(windowMs) / 15_000))));
    run('validator', [
      '--import',
      tsx,
      tessera,
      'validator',
      '--run',
      runFile,
      '--signal',
      signal,
      '--key',
      join(dir, 'validator.key'),
      '--name',
      'validator',
      '--status-port',
      statusPort,
      // Without a GPU, onnxruntime's wasm scores tiny faster than SwiftShader (the CPU reference
      // already did: 21 vs 39 ms per 64-token sequence): two sampled candidates per window, 64
      // own and 64 random pages each (with 32 own pages honest peers missed the proof-of-work
      // bar about half the time).
      '--score',
      'cpu',
      '--score-max',
      scoreMax,
      '--score-pages',
      '64,64',
    ]);
    for (const p of ['peer-1', 'peer-2'])
      run(p, [
        '--import',
        tsx,
        tessera,
        'peer',
        '--run',
        runFile,
        '--signal',
        signal,
        '--key',
        join(dir, `${p}.key`),
        '--name',
        p,
        ...(p === 'peer-1' ? ['--wallet', join(dir, 'peer-1.wallet')] : []),
      ]);
  }
}
