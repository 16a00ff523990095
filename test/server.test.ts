// The app server over real HTTP on loopback: static files, client-side-route fallback,
// health, and refusal of paths outside dist/.
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppServer, SECURITY_HEADERS } from '../server/appServer';
import { defaultFreshMs, StatusRelay } from '../server/statusRelay';
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
    try {
      await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
      const none = await fetch(`http://127.0.0.1:${(bare.address() as AddressInfo).port}/api/run`);
      expect(none.status).toBe(404);
      expect(((await none.json()) as { error: string }).error).toMatch(/hosts no swarm run/);
    } finally {
      bare.close();
    }
  });

  it("relays a validator's ledger status at /api/status, and says why when it cannot", async () => {
    const ledger = new Ledger(join(sandbox, 'ledger.sqlite'), 'status-run');
    const status = serveStatus(ledger, 0, '127.0.0.1');
    try {
      await new Promise((resolve) => status.once('listening', resolve));
      const statusUrl = `http://127.0.0.1:${(status.address() as AddressInfo).port}/status`;
      // No caching here: every request goes through, so the validator's going away shows at once.
      const live = createAppServer({ distDir: dist, validatorStatus: statusUrl, statusRelay: { freshMs: () => 0, staleMs: 0 } });
      await new Promise<void>((resolve) => live.listen(0, '127.0.0.1', resolve));
      try {
        const relayBase = `http://127.0.0.1:${(live.address() as AddressInfo).port}`;
        const relayed = await fetch(`${relayBase}/api/status`);
        expect(relayed.status).toBe(200);
        expect(await relayed.json()).toEqual(JSON.parse(JSON.stringify(ledger.status())));
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
        await new Promise((resolve) => status.close(resolve));
        const down = await fetch(`${relayBase}/api/status`);
        expect(down.status).toBe(502);
        expect(((await down.json()) as { error: string }).error).toMatch(/validator unreachable/);
      } finally {
        live.close();
      }
      const none = await fetch(`${base}/api/status`);
      expect(none.status).toBe(404);
    } finally {
      status.close();
      ledger.close();
    }
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

describe('app server: hostile requests and security headers', () => {
  const dist = mkdtempSync(join(tmpdir(), 'tessera-headers-'));
  writeFileSync(join(dist, 'index.html'), '<!doctype html><title>app</title>');
  let port = 0;
  let server: ReturnType<typeof createAppServer>;
  beforeAll(async () => {
    server = createAppServer({ distDir: dist, validatorStatus: 'http://127.0.0.1:1/status' });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  /** One raw HTTP exchange: what the server wrote back before it closed the connection. */
  const raw = (request: string, to = port): Promise<string> =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      const s = connect(to, '127.0.0.1', () => s.write(request));
      s.on('data', (d: Buffer) => chunks.push(d));
      s.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
      s.on('error', reject);
      s.setTimeout(5000, () => s.destroy(new Error('no answer')));
    });

  it('answers an invalid absolute-form target with 400 and keeps serving', async () => {
    expect(await raw('GET http://a:99999/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/);
    expect(await raw('GET / HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  });

  it("does the same on the validator's status API", async () => {
    const ledger = new Ledger(join(dist, 'ledger.sqlite'), 'hostile-run');
    const status = serveStatus(ledger, 0, '127.0.0.1');
    try {
      await new Promise((resolve) => status.once('listening', resolve));
      const statusPort = (status.address() as AddressInfo).port;
      const answer = await raw('GET http://a:99999/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', statusPort);
      expect(answer).toMatch(/^HTTP\/1\.1 400/);
      expect((await fetch(`http://127.0.0.1:${statusPort}/status`)).status).toBe(200);
    } finally {
      await new Promise((resolve) => status.close(resolve));
      ledger.close();
    }
  });

  it('sends the security headers on every kind of answer', async () => {
    const answers = [
      await fetch(`http://127.0.0.1:${port}/`),
      await fetch(`http://127.0.0.1:${port}/api/run`),
      await fetch(`http://127.0.0.1:${port}/api/status`),
      await fetch(`http://127.0.0.1:${port}/`, { method: 'POST' }),
    ];
    expect(answers.map((r) => r.status)).toEqual([200, 404, 502, 405]);
    for (const r of answers) {
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(r.headers.get(name), name).toBe(value);
    }
    const csp = SECURITY_HEADERS['content-security-policy'];
    expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval'");
    expect(csp).not.toMatch(/'unsafe-inline'|'unsafe-eval'|\*/);
    expect(csp).toContain("frame-ancestors 'none'");
  });
});

describe('status relay', () => {
  const clock = { t: 1_000_000 };
  const upstream = (fail = false) => {
    const calls: string[] = [];
    let version = 0;
    const fetchFn = async (url: string): Promise<unknown> => {
      calls.push(url);
      await new Promise((r) => setTimeout(r, 5));
      if (fail) throw new Error('connection refused');
      return { url, version: ++version };
    };
    return { calls, fetchFn, setFail: (f: boolean) => (fail = f) };
  };

  it('serves many concurrent viewers from one upstream read', async () => {
    const u = upstream();
    const relay = new StatusRelay({ fetch: u.fetchFn, now: () => clock.t });
    const answers = await Promise.all(Array.from({ length: 200 }, () => relay.get('http://v/status')));
    expect(u.calls).toHaveLength(1);
    expect(new Set(answers.map((a) => a.body)).size).toBe(1);
    expect(relay.upstreamReads).toBe(1);
  });

  it('reads again only once an answer is older than its interval, per path', async () => {
    const u = upstream();
    const relay = new StatusRelay({ fetch: u.fetchFn, now: () => clock.t });
    await relay.get('http://v/status');
    clock.t += defaultFreshMs('http://v/status') - 1;
    expect((await relay.get('http://v/status')).ageMs).toBe(defaultFreshMs('http://v/status') - 1);
    expect(u.calls).toHaveLength(1);
    clock.t += 1;
    expect(JSON.parse((await relay.get('http://v/status')).body)).toMatchObject({ version: 2 });
    await relay.get('http://v/history?after=3');
    await relay.get('http://v/history?after=4');
    expect(u.calls).toEqual(['http://v/status', 'http://v/status', 'http://v/history?after=3', 'http://v/history?after=4']);
  });

  it('serves the last answer, with its age, while the validator is down, then says it is unreachable', async () => {
    const u = upstream();
    const relay = new StatusRelay({ fetch: u.fetchFn, now: () => clock.t, staleMs: 30_000 });
    await relay.get('http://v/status');
    u.setFail(true);
    clock.t += 10_000;
    expect(await relay.get('http://v/status')).toMatchObject({ ageMs: 10_000 });
    clock.t += 25_000;
    await expect(relay.get('http://v/status')).rejects.toThrow(/connection refused/);
  });

  it('keeps at most maxEntries upstream URLs', async () => {
    const u = upstream();
    const relay = new StatusRelay({ fetch: u.fetchFn, now: () => clock.t, maxEntries: 2 });
    for (const a of [1, 2, 3, 1]) await relay.get(`http://v/history?after=${a}`);
    // after=1 was evicted by after=3, so it is read again.
    expect(u.calls.filter((c) => c.endsWith('after=1'))).toHaveLength(2);
  });
});
