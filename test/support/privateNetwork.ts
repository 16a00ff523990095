// Guard for tests that open peer connections: they must run inside the private network
// namespace made by scripts/netns.mjs, so no packet they send can leave the machine.
import { networkInterfaces } from 'node:os';

export function assertPrivateNetwork(): void {
  const names = Object.keys(networkInterfaces());
  const outside = names.filter((n) => n !== 'lo' && n !== 'v0' && n !== 'v1');
  if (process.env.TESSERA_NETNS !== '1' || outside.length > 0) {
    throw new Error(
      `peer-connection tests must run in the private network namespace (found interfaces: ${names.join(', ')}); run them through \`npm test\`, \`npm run test:unit\` or \`node scripts/netns.mjs -- <command>\``,
    );
  }
}

/** The namespace's second address (scripts/netns.mjs): where servers that peers reach run, e.g. coturn. */
export const NETNS_SERVER_IP = '10.77.0.2';
