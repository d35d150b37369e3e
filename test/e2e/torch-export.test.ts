/**
 * A model trained by the PyTorch trainer reaches the shopper's browser: shop events ->
 * `hunch shards` -> packages/trainer/torch/train.py -> `hunch export` -> the SDK in real
 * Chromium, whose top 20 for a history equals what onnxruntime-node computes from the same
 * ONNX file in Node: int8 (WASM's default, on the worker's own GPT-2) and fp32 (onnxruntime-web).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseManifest, type HunchManifest } from '@hunch/core';
import { startStorefront } from '../../examples/storefront/server.mjs';
import { buildCli, type Cli } from '../../packages/trainer/test/cli-helpers.js';
import { catalogPath, simulated } from '../../packages/trainer/test/helpers.js';
import { python, summaryOf } from '../../packages/trainer/test/torch-helpers.js';
import { launchChromium } from './chromium.js';
import { expectSameTopK, nodeRanking, recommendInBrowser, type HistoryEvent, type Storefront } from './engine-ranking.js';

const K = 20;
/** Browsing only (nothing excluded, so the SDK's top 20 is the model's), with a repeat for the repeat bonus. */
const HISTORY: HistoryEvent[] = [
  { name: 'page_view', params: { page_path: '/' } },
  { name: 'view_item', params: { item_id: 'mugs-01' } },
  { name: 'view_item', params: { item_id: 'tea-02' } },
  { name: 'view_item', params: { item_id: 'tea-05' } },
  { name: 'view_item', params: { item_id: 'mugs-01' } },
  { name: 'view_item', params: { item_id: 'lamps-03' } },
];

let work: string;
let cli: Cli;
let storefront: Storefront;
let manifest: HunchManifest;
let browser: Browser;
let context: BrowserContext;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'hunch-torch-export-'));
  cli = await buildCli('torch-e2e');
  const events = join(work, 'events.ndjson');
  await writeFile(events, simulated(600, 8).map((e) => JSON.stringify(e)).join('\n') + '\n');
  const shards = join(work, 'shards');
  expect((await cli.run(['shards', '--events', events, '--out', shards, '--context', '32'])).code).toBe(0);
  const checkpoint = join(work, 'checkpoint');
  const trained = summaryOf(
    await python(['train.py', '--shards', shards, '--out', checkpoint, '--layers', '2', '--embd', '32', '--heads', '2', '--context', '32', '--epochs', '3', '--batch-tokens', '512', '--negatives', '64', '--dropout', '0.1', '--seed', '2']),
  );
  expect(trained.steps).toBeGreaterThan(10);
  const exported = await cli.run(['export', '--model', checkpoint, '--catalog', catalogPath, '--out', join(work, 'models', 'torch')]);
  expect(exported.code, exported.stderr).toBe(0);
  manifest = parseManifest(JSON.parse(await readFile(join(work, 'models', 'torch', 'hunch.json'), 'utf8')));
  storefront = await startStorefront({ port: 0, modelsDir: join(work, 'models') });
  browser = await launchChromium({ webgpu: false });
  context = await browser.newContext();
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await storefront?.close();
  await cli?.dispose();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('a PyTorch-trained model in Chromium', () => {
  it('carries the heads train.py trained: item bias, cosine scoring, the repeat bonus', () => {
    expect(manifest.onnx).toMatchObject({ itemBias: true, cosineScale: 12, repeat: { output: 'hunch_repeat', addTo: 'history-items' } });
  });

  for (const [dtype, requested, file] of [
    ['q8', undefined, 'onnx/model_quantized.onnx'],
    ['fp32', 'fp32', 'onnx/model.onnx'],
  ] as const) {
    it(`${dtype}: the worker's top ${K} equal onnxruntime-node's`, { timeout: 300_000 }, async () => {
      const node = await nodeRanking(join(work, 'models', 'torch'), manifest, file, HISTORY, K);
      const { status, stored, recs } = await recommendInBrowser(context, storefront, 'torch', 'wasm', requested, HISTORY, K);
      expect(status).toMatchObject({ backend: 'wasm', dtype, modelFile: file, modelVersion: manifest.version });
      expect(stored).toEqual(HISTORY);
      expect(recs.every((rec) => rec.source === 'model')).toBe(true);
      expectSameTopK(
        recs.map((rec) => rec.id),
        node,
        K,
        1e-4,
      );
      const worst = Math.max(...recs.map((rec) => Math.abs(rec.score - node.probability.get(rec.id)!)));
      expect(worst).toBeLessThan(1e-4);
    });
  }
});
