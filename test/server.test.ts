// The app server over real HTTP on loopback: static files, client-side-route fallback,
// health, and refusal of paths outside dist/.
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppServer } from '../server/appServer';
import { serveStatus } from '../server/validatorStatus';
import { Ledger } from '../src/validator/ledger';

describe('app server', () => {
  const sandbox = mkdtempSync(join(tmpdir(), 'tessera-serve-'));
  const dist = join(sandbox, 'dist');
  let base = '';
  let close = (): void => undefined;

  beforeAll(async () => {
    mkdirSync(dist);
    writeFileSync(join(dist, 'index.html'), '<!doctype html><title>app</title>');
    mkdirSync(join(dist, 'assets'));
    writeFileSync(join(dist, 'assets', 'main-abc.js'), 'console.log(1)');
    writeFileSync(join(sandbox, 'secret.txt'), 'do not serve');
    const server = createAppServer({ distDir: dist, run: { runId: 'published-run' } });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => server.close();
  });
  afterAll(() => close());

  it('serves assets with their type and long caching', async () => {
    const res = await fetch(`${base}/assets/main-abc.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/javascript/);
    expect(res.headers.get('cache-control')).toMatch(/immutable/);
  });

  it('publishes the hosted run at /api/run, and 404 with the reason without one', async () => {
    const res = await fetch(`${base}/api/run`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ run: { runId: 'published-run' } });
    const bare = createAppServer({ distDir: dist });
    await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
    const none = await fetch(`http://127.0.0.1:${(bare.address() as AddressInfo).port}/api/run`);
    expect(none.status).toBe(404);
    expect(((await none.json()) as { error: string }).error).toMatch(/hosts no swarm run/);
    bare.close();
  });

  it("relays a validator's ledger status at /api/status, and says why when it cannot", async () => {
    const ledger = new Ledger(join(sandbox, 'ledger.sqlite'), 'status-run');
    const status = serveStatus(ledger, 0, '127.0.0.1');
    await new Promise((resolve) => status.once('listening', resolve));
    const statusUrl = `http://127.0.0.1:${(status.address() as AddressInfo).port}/status`;
    const relay = createAppServer({ distDir: dist, validatorStatus: statusUrl });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    const relayed = await fetch(`http://127.0.0.1:${(relay.address() as AddressInfo).port}/api/status`);
    expect(relayed.status).toBe(200);
    expect(await relayed.json()).toEqual(JSON.parse(JSON.stringify(ledger.status())));
    const relayBase = `http://127.0.0.1:${(relay.address() as AddressInfo).port}`;
    const history = await fetch(`${relayBase}/api/status/history?after=-1`);
    expect(history.status).toBe(200);
    expect(await history.json()).toEqual({ windows: [], losses: [], more: false });
    // The relay passes on only an integer window: anything else is refused before it leaves.
    for (const after of ['x', '1e3', '-2', '1&a=b', '../x']) {
      const bad = await fetch(`${relayBase}/api/status/history?after=${encodeURIComponent(after)}`);
      expect(bad.status, after).toBe(400);
    }
    expect((await fetch(`${statusUrl}/history?after=zz`)).status).toBe(400);
    const alice = '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY';
    const record = await fetch(`${relayBase}/api/status/address?address=${alice}`);
    expect(await record.json()).toEqual({ address: alice, windows: [] });
    for (const bad of ['', 'x', `${alice}&after=1`, `${alice}/../../x`, '0OIl'.repeat(12)]) {
      expect((await fetch(`${relayBase}/api/status/address?address=${encodeURIComponent(bad)}`)).status, bad).toBe(400);
    }
    expect((await fetch(`${relayBase}/api/status/other`)).status).toBe(404);
    expect((await fetch(statusUrl.replace('/status', '/other'))).status).toBe(404);
    status.close();
    ledger.close();
    const down = await fetch(`http://127.0.0.1:${(relay.address() as AddressInfo).port}/api/status`);
    expect(down.status).toBe(502);
    expect(((await down.json()) as { error: string }).error).toMatch(/validator unreachable/);
    relay.close();
    const none = await fetch(`${base}/api/status`);
    expect(none.status).toBe(404);
  });

  it('answers client-side routes with index.html', async () => {
    for (const path of ['/', '/wallet', '/dashboard/']) {
      const res = await fetch(`${base}${path}`);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('<title>app</title>');
    }
  });

  it('never serves files outside dist', async () => {
    for (const path of ['/..%2fsecret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/%E0%A4%A']) {
      const body = await (await fetch(`${base}${path}`)).text();
      expect(body).not.toContain('do not serve');
    }
  });

  it('reports health and refuses writes', async () => {
    expect(await (await fetch(`${base}/healthz`)).json()).toMatchObject({ ok: true });
    expect((await fetch(`${base}/`, { method: 'POST' })).status).toBe(405);
  });

  it('refuses to start without a built app', () => {
    expect(() => createAppServer({ distDir: join(dist, 'nope') })).toThrow(/npm run build/);
  });
});
