// The volunteer's whole single-peer loop in Chromium: start training tiny, watch the loss
// fall, pause (checkpoint), reload, resume from the same step and parameters, sample text,
// export the model as ONNX and run the downloaded file in onnxruntime-web, and as a zipped
// Hugging Face checkpoint that Python's zipfile opens.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import * as ort from 'onnxruntime-web';

test.setTimeout(300_000);

test('train, pause, reload, resume with the same parameters, and sample', async ({ page }) => {
  await page.goto('/');
  await page.getByTestId('experiment-toggle').click(); // solo training sits collapsed below the swarm
  const trainer = page.getByTestId('trainer');
  await expect(trainer).toHaveAttribute('data-state', 'idle', { timeout: 60_000 });
  await page.getByTestId('preset').selectOption('tiny');
  await page.getByTestId('start').click();
  await expect(trainer).toHaveAttribute('data-state', 'training');

  const chart = page.getByTestId('loss-chart');
  await expect.poll(async () => Number(await chart.getAttribute('data-train-points')), { timeout: 180_000 }).toBeGreaterThanOrEqual(4);
  const first = Number(await chart.getAttribute('data-first-train'));
  const last = Number(await chart.getAttribute('data-last-train'));
  expect(first).toBeGreaterThan(3.8); // ln 65 ≈ 4.17 at the start
  expect(last).toBeLessThan(first - 0.3);

  await page.getByTestId('pause').click();
  await expect(trainer).toHaveAttribute('data-state', 'paused', { timeout: 120_000 });
  const checkpoint = page.getByTestId('checkpoint');
  const step = await checkpoint.getAttribute('data-step');
  const hash = await checkpoint.getAttribute('data-hash');
  expect(Number(step)).toBeGreaterThan(0);
  expect(hash).toMatch(/^[0-9a-f]{64}$/);

  await page.reload();
  await page.getByTestId('experiment-toggle').click();
  await expect(trainer).toHaveAttribute('data-state', 'idle', { timeout: 60_000 });
  await page.getByTestId('start').click();
  const resumed = page.getByTestId('resumed');
  await expect(resumed).toHaveAttribute('data-step', step ?? '', { timeout: 60_000 });
  await expect(resumed).toHaveAttribute('data-hash', hash ?? '');

  await page.getByTestId('prompt').fill('ROMEO:');
  await page.getByTestId('generate').click();
  const output = page.getByTestId('sample-output');
  await expect(output).toHaveAttribute('data-done', 'true', { timeout: 120_000 });
  expect(((await output.textContent()) ?? '').length).toBeGreaterThan('ROMEO:'.length + 50);
  await page.getByTestId('pause').click();
  await expect(trainer).toHaveAttribute('data-state', 'paused', { timeout: 120_000 });

  // Export at the paused step: the button downloads a file that onnxruntime-web runs.
  const pausedStep = await page.getByTestId('checkpoint').getAttribute('data-step');
  const download = page.waitForEvent('download');
  await page.getByTestId('export-onnx').click();
  const file = await download;
  expect(file.suggestedFilename()).toBe(`tessera-tiny-step${pausedStep}.onnx`);
  const bytes = readFileSync(await file.path());
  expect(bytes.toString('latin1')).toContain('{"kind":"char","chars":"\\n !'); // the alphabet travels with the model
  ort.env.wasm.numThreads = 1;
  const session = await ort.InferenceSession.create(bytes);
  const logits = (await session.run({ tokens: new ort.Tensor('int64', BigInt64Array.from([20n, 27n, 25n, 17n]), [1, 4]) })).logits;
  expect(logits.dims).toEqual([1, 4, 65]);
  expect([...(logits.data as Float32Array)].every(Number.isFinite)).toBe(true);

  // The Hugging Face zip: the checkpoint's three files, with the gpt2 tensor names and the preset's config.
  const hfDownload = page.waitForEvent('download');
  await page.getByTestId('export-hf').click();
  const zip = await hfDownload;
  expect(zip.suggestedFilename()).toBe(`tessera-tiny-step${pausedStep}.zip`);
  const script = [
    'import json, struct, sys, zipfile',
    'z = zipfile.ZipFile(sys.argv[1])',
    'assert z.testzip() is None',
    'st = z.read(sys.argv[2] + "/model.safetensors")',
    '(n,) = struct.unpack("<Q", st[:8])',
    'header = json.loads(st[8:8 + n])',
    'config = json.loads(z.read(sys.argv[2] + "/config.json"))',
    'print(json.dumps({"names": sorted(z.namelist()), "wte": header["wte.weight"]["shape"], "tensors": len(header) - 1, "n_layer": config["n_layer"]}))',
  ].join('\n');
  const folder = `tessera-tiny-step${pausedStep}`;
  const listed = JSON.parse(execFileSync('python3', ['-c', script, await zip.path(), folder], { encoding: 'utf8' })) as Record<string, unknown>;
  expect(listed).toEqual({
    names: [`${folder}/README.md`, `${folder}/config.json`, `${folder}/model.safetensors`],
    wte: [65, 64],
    tensors: 4 + 12 * 2,
    n_layer: 2,
  });
});
