// Runs a command inside a private network namespace (loopback + a veth pair, nothing else),
// so WebRTC tests gather real ICE candidates while no packet can leave the machine.
// Usage: node scripts/netns.mjs -- <command> [args...]
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const NETNS_HOST_IP = '10.77.0.1';
export const NETNS_PEER_IP = '10.77.0.2';

// Chromium gathers no ICE candidates on loopback alone: a veth pair with a default route
// gives it a host candidate on 10.77.0.1, and the route keeps "no network" errors away.
const SETUP = `
set -e
ip link set lo up
ip link add v0 type veth peer name v1
ip addr add ${NETNS_HOST_IP}/24 dev v0
ip addr add ${NETNS_PEER_IP}/24 dev v1
ip link set v0 up
ip link set v1 up
ip route add default dev v0
exec "$@"`;

function unshareArgs() {
  // Root may create the namespace directly; others need a user namespace mapped to root.
  return process.getuid?.() === 0 ? ['-n'] : ['-r', '-n'];
}

/** Throws with one plain line when this machine does not allow private network namespaces. */
export function checkNetnsSupport() {
  const probe = spawnSync('unshare', [...unshareArgs(), 'sh', '-c', 'ip link add v0 type veth peer name v1'], { encoding: 'utf8' });
  if (probe.error?.code === 'ENOENT') throw new Error('private network namespaces need `unshare` (util-linux) and `ip` (iproute2): install them.');
  if (probe.status !== 0) {
    const why = (probe.stderr || '').trim().split('\n')[0];
    throw new Error(
      `cannot create a private network namespace here (${why || `exit ${probe.status}`}); run as root, or enable unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1).`,
    );
  }
}

/** Spawns `command args` inside a fresh private namespace; resolves with its exit code. */
export function runInNetns(command, args, options = {}) {
  checkNetnsSupport();
  const env = { ...(options.env ?? process.env), TESSERA_NETNS: '1', TESSERA_NETNS_IP: NETNS_HOST_IP };
  const child = spawn('unshare', [...unshareArgs(), 'sh', '-c', SETUP, 'tessera-netns', command, ...args], { stdio: 'inherit', ...options, env });
  const forward = (sig) => child.kill(sig);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const sep = process.argv.indexOf('--');
  const rest = sep >= 0 ? process.argv.slice(sep + 1) : process.argv.slice(2);
  if (rest.length === 0) {
    console.error('usage: node scripts/netns.mjs -- <command> [args...]');
    process.exit(2);
  }
  try {
    // npm puts node_modules/.bin on PATH for scripts; keep it so `vitest` resolves.
    process.exit(await runInNetns(rest[0], rest.slice(1)));
  } catch (err) {
    console.error(`[netns] ${err.message}`);
    process.exit(1);
  }
}
