// The latest verified model over HTTP: the validator's `/status/model` (ONNX of its current θ,
// exported once per θ), the app server's `/api/model` relay (one upstream read per interval,
// headers checked, sizes capped), and the bytes running in onnxruntime with the reference's logits.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppServer } from '../../server/appServer';
import { ModelRelay } from '../../server/modelRelay';
import { MODEL_HEADERS, serveStatus } from '../../server/validatorStatus';
import { checkConfig } from '../../src/model/config';
import { initParams } from '../../src/model/init';
import { paramLayout } from '../../src/model/layout';
import { referenceForward } from '../../src/model/reference';
import { toHex } from '../../src/protocol/bytes';
import { modelHash } from '../../src/protocol/hash';
import { LatestModel } from '../../src/validator/latestModel';
import { Ledger } from '../../src/validator/ledger';

const config = checkConfig({ vocabSize: 11, contextLength: 8, embedDim: 8, layers: 1, heads: 2 });
const layout = paramLayout(config);
const tokenizer = { kind: 'char' as const, chars: 'ab\ncdé ✓fgh' };
ort.env.wasm.numThreads = 1;

const listen = async (server: Server): Promise<string> => {
  if (!server.listening) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};
const close = (server: Server): Promise<unknown> => new Promise((resolve) => server.close(resolve));

describe('the latest model, from validator to viewer', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-model-'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>app</title>');
  const ledger = new Ledger(join(dir, 'ledger.sqlite'), 'model-run');
  let theta = initParams(config, layout, 3);
  let window = 4;
  const latest = new LatestModel(config, layout, tokenizer, () => ({ theta, window }));
  let status: Server;
  let app: Server;
  let appBase = '';
  const clock = { t: 0 };

  beforeAll(async () => {
    status = serveStatus(ledger, 0, '127.0.0.1', undefined, undefined, () => latest.snapshot());
    await new Promise((resolve) => status.once('listening', resolve));
    const statusUrl = `http://127.0.0.1:${(status.address() as AddressInfo).port}/status`;
    app = createAppServer({ distDir: dir, validatorStatus: statusUrl, modelRelay: { now: () => clock.t } });
    appBase = await listen(app);
  });
  afterAll(async () => {
    await close(app);
    await close(status);
    ledger.close();
  });

  it('exports once per θ and again when the window brings a new one', () => {
    const first = latest.snapshot();
    expect(latest.snapshot()).toBe(first);
    expect(first).toMatchObject({ window: 4, hash: toHex(modelHash(theta)), tokenizer });
    const before = theta;
    theta = theta.map((v) => v * 1.5);
    window = 5;
    const second = latest.snapshot();
    expect(second.hash).not.toBe(first.hash);
    theta = before;
    window = 4;
  });

  it("relays the validator's model: the same bytes and headers, and onnxruntime gives the reference's logits", async () => {
    const res = await fetch(`${appBase}/api/model`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(res.headers.get(MODEL_HEADERS.window)).toBe('4');
    expect(res.headers.get(MODEL_HEADERS.context)).toBe('8');
    expect(res.headers.get(MODEL_HEADERS.hash)).toBe(toHex(modelHash(theta)));
    expect(JSON.parse(decodeURIComponent(res.headers.get(MODEL_HEADERS.tokenizer) ?? ''))).toEqual(tokenizer);
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(Buffer.from(bytes).equals(Buffer.from(latest.snapshot().onnx))).toBe(true);
    const session = await ort.InferenceSession.create(bytes);
    const tokens = Int32Array.of(1, 4, 2, 9, 0);
    const out = await session.run({
      tokens: new ort.Tensor(
        'int64',
        BigInt64Array.from(tokens, (t) => BigInt(t)),
        [1, 5],
      ),
    });
    const reference = referenceForward(config, layout, theta, { tokens, targets: tokens, batchSize: 1, seqLen: 5 }).logits;
    (out.logits.data as Float32Array).forEach((v, i) => expect(Math.abs(v - reference[i])).toBeLessThan(1e-4));
    await session.release();
  });

  it('reads upstream once per interval however many viewers ask', async () => {
    const reads = async (): Promise<number> => ((await (await fetch(`${appBase}/healthz`)).json()) as { modelUpstreamReads: number }).modelUpstreamReads;
    clock.t += 60_000;
    const before = await reads();
    const answers = await Promise.all(Array.from({ length: 6 }, () => fetch(`${appBase}/api/model`).then((r) => r.arrayBuffer())));
    expect(answers.every((a) => a.byteLength === latest.snapshot().onnx.length)).toBe(true);
    expect((await reads()) - before).toBe(1);
  });
});

describe('ModelRelay against a hostile upstream', () => {
  let body = new Uint8Array(16);
  let headers: Record<string, string> = {};
  let statusCode = 200;
  const upstream = createServer((_req, res) => {
    res.writeHead(statusCode, { 'content-length': String(body.length), ...headers });
    res.end(body);
  });
  let url = '';
  const good = {
    [MODEL_HEADERS.context]: '64',
    [MODEL_HEADERS.window]: '3',
    [MODEL_HEADERS.hash]: 'ab'.repeat(32),
    [MODEL_HEADERS.tokenizer]: encodeURIComponent('{"kind":"gpt2","extra":1}'),
  };
  beforeAll(async () => (url = await listen(upstream)));
  afterAll(() => close(upstream));

  const relayed = (maxBytes = 1024) => new ModelRelay(url, { maxBytes, freshMs: 0 }).get();

  it('passes a well-formed answer, the tokenizer re-serialised without unknown fields', async () => {
    headers = good;
    expect(await relayed()).toMatchObject({ window: 3, hash: 'ab'.repeat(32), contextLength: 64, tokenizer: '{"kind":"gpt2"}' });
  });

  it('refuses bad headers, oversize declarations and a failed upstream, each with the reason', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ ...good, [MODEL_HEADERS.window]: '-1' }, /no valid window/],
      [{ ...good, [MODEL_HEADERS.hash]: 'zz' }, /no valid hash/],
      [{ ...good, [MODEL_HEADERS.context]: '0' }, /no valid context length/],
      [{ ...good, [MODEL_HEADERS.tokenizer]: '%E0%A4%A' }, /no readable tokenizer/],
      [{ ...good, [MODEL_HEADERS.tokenizer]: encodeURIComponent('{"kind":"char","chars":""}') }, /no tokenizer Tessera knows/],
    ];
    for (const [h, reason] of cases) {
      headers = h;
      await expect(relayed(), reason.source).rejects.toThrow(reason);
    }
    headers = good;
    body = new Uint8Array(4096);
    await expect(relayed()).rejects.toThrow(/declares 4096 bytes; the relay takes 1 to 1024/);
    statusCode = 503;
    await expect(relayed(8192)).rejects.toThrow(/answered 503/);
    statusCode = 200;
    body = new Uint8Array(16);
  });
});
