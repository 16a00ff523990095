// Makes a fresh clone runnable: installs npm dependencies when the lockfile changed, and
// Debian's chromium + libvulkan1 (and, for the tests, coturn and openssl) when running as root;
// otherwise says exactly what is missing.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM, SWIFTSHADER_ICD, hasVulkanLoader } from './env.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const forTests = process.argv.includes('--test');
const say = (line) => console.log(`[bootstrap] ${line}`);

function fail(line) {
  console.error(`[bootstrap] ${line}`);
  process.exit(1);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  return r.status === 0;
}

function lockDigest() {
  const lock = join(root, 'package-lock.json');
  const text = readFileSync(existsSync(lock) ? lock : join(root, 'package.json'));
  return createHash('sha256').update(text).digest('hex');
}

function ensureNodeVersion() {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major < 20 || (major === 20 && minor < 19)) fail(`Node ${process.versions.node} is too old: install Node.js 20.19 or newer.`);
}

function ensureNpmDependencies() {
  const stamp = join(root, 'node_modules', '.tessera-lock-digest');
  const digest = lockDigest();
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === digest) return;
  say('installing npm dependencies (npm ci) ...');
  const ok = existsSync(join(root, 'package-lock.json')) ? run('npm', ['ci', '--no-audit', '--no-fund']) : run('npm', ['install', '--no-audit', '--no-fund']);
  if (!ok) fail('npm could not install the dependencies: check that the npm registry is reachable, then run `npm ci`.');
  writeFileSync(stamp, digest);
}

function missingDebianPackages() {
  const missing = [];
  if (!existsSync(CHROMIUM) || !existsSync(SWIFTSHADER_ICD)) missing.push('chromium');
  if (!hasVulkanLoader()) missing.push('libvulkan1');
  // Only the tests (`--test`) start a real TURN server and make a self-signed certificate.
  if (forTests && !existsSync('/usr/bin/turnserver')) missing.push('coturn');
  if (forTests && !existsSync('/usr/bin/openssl')) missing.push('openssl');
  return missing;
}

function ensureSystemPackages() {
  const missing = missingDebianPackages();
  if (process.env.TESSERA_CHROMIUM && existsSync(process.env.TESSERA_CHROMIUM)) {
    const i = missing.indexOf('chromium');
    if (i >= 0) missing.splice(i, 1);
  }
  if (missing.length === 0) return;
  const isRoot = process.getuid?.() === 0;
  const hasApt = existsSync('/usr/bin/apt-get');
  if (!isRoot || !hasApt) {
    fail(
      `missing system packages: ${missing.join(', ')}. Install them (Debian/Ubuntu: sudo apt-get install -y ${missing.join(' ')}), or point TESSERA_CHROMIUM at a Chromium binary.`,
    );
  }
  say(`installing Debian packages: ${missing.join(', ')} (apt-get) ...`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!run('apt-get', ['update', '-qq'], { env }) || !run('apt-get', ['install', '-y', '-qq', ...missing], { env })) {
    fail(`apt-get could not install ${missing.join(', ')}: check that Debian's package mirror is reachable.`);
  }
  const still = missingDebianPackages();
  if (still.length)
    fail(`after apt-get, still missing: ${still.join(', ')} (expected ${CHROMIUM}, ${SWIFTSHADER_ICD}, /usr/bin/turnserver and /usr/bin/openssl).`);
}

ensureNodeVersion();
ensureSystemPackages();
ensureNpmDependencies();
