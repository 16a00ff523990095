// Test scaffolding for swarm tests: a real signaling server on loopback, Node peers with
// WebRTC (@roamhq/wrtc) meshed through it, cleanup after each test, and a polling wait.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import WebSocket from 'ws';
import { attachSignaling, type SignalingOptions } from '../../server/signaling';
import { Mesh } from '../../src/p2p/mesh';
import type { WrtcImplementation } from '../../src/p2p/peerLink';
import { SignalingClient, type SocketLike } from '../../src/p2p/signalingClient';
import { randomSigner, type Signer } from '../../src/protocol/keys';

export const wrtc = createRequire(import.meta.url)('@roamhq/wrtc') as WrtcImplementation;

export class Harness {
  private readonly cleanups: (() => unknown)[] = [];
  private readonly failures: string[] = [];

  /** Runs the deferred cleanups (newest first), then fails if a watched loop rejected. */
  async cleanup(): Promise<void> {
    for (const c of this.cleanups.splice(0).reverse()) await c();
    const failures = this.failures.splice(0);
    if (failures.length) throw new Error(failures.join('\n'));
  }

  /**
   * Keeps a background loop's promise (a validator's or peer's run()): its rejection fails the
   * test at cleanup, never an unhandled rejection that passes unseen.
   */
  watch(name: string, running: Promise<unknown>): void {
    running.catch((err: unknown) => this.failures.push(`${name} rejected: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`));
  }

  defer(fn: () => unknown): void {
    this.cleanups.push(fn);
  }

  async signalingUrl(options?: SignalingOptions): Promise<string> {
    return (await this.signalingServer(options)).url;
  }

  /** A signaling server that can be stopped and started again on the same port. */
  async signalingServer(options?: SignalingOptions): Promise<{ url: string; restart(downMs: number): Promise<void> }> {
    let port = 0;
    let stop = async (): Promise<void> => undefined;
    const start = async (): Promise<void> => {
      const server = createServer();
      const signaling = attachSignaling(server, options);
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
      port = (server.address() as AddressInfo).port;
      stop = async () => {
        await signaling.close();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      };
    };
    await start();
    this.defer(() => stop());
    return {
      url: `ws://127.0.0.1:${port}/signal`,
      restart: async (downMs) => {
        await stop();
        await new Promise((r) => setTimeout(r, downMs));
        await start();
      },
    };
  }

  peer(url: string, id: string, options: { room?: string; maxNeighbours?: number; banMs?: number; signer?: Signer; maxMessageBytes?: number } = {}): Mesh {
    // The server refuses unsigned joins: a fresh key per peer unless the test brings its own.
    const signaling = new SignalingClient({
      url,
      room: options.room ?? 'swarm-test',
      peerId: id,
      signer: options.signer ?? randomSigner(),
      socket: (u) => new WebSocket(u) as unknown as SocketLike,
    });
    const mesh = new Mesh({
      signaling,
      selfId: id,
      wrtc,
      maxNeighbours: options.maxNeighbours ?? 8,
      banMs: options.banMs ?? 60_000,
      connectTimeoutMs: 10_000,
      maxMessageBytes: options.maxMessageBytes,
    });
    this.defer(() => {
      mesh.close();
      signaling.close();
    });
    return mesh;
  }
}

export async function until(check: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
