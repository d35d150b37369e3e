/**
 * The ONNX variants in real Chromium: for one fixed history, the SDK's worker (transformers.js
 * on onnxruntime-web) returns the same top-20 items on WASM and on WebGPU as onnxruntime-node
 * computes in Node from the same file with the same repeat-bonus rule: fp32, int8 (q8) and
 * q4 on WASM, fp32 and q4 on WebGPU. Twice: the shipped demo model (no heads), and the demo
 * weights with made-up next-item heads (item bias, cosine scoring, a repeat bonus), so that
 * the worker's handling of `hunch_repeat` is checked too. Each case also checks that the
 * variant asked for is the one fetched and reported by hunch.status(). On WASM the int8 file
 * runs on the worker's own GPT-2 with its own item kernel (status().engine 'hunch-gpt2',
 * itemScoring 'int8-simd'), so the q8 case there checks both against onnxruntime-node's graph.
 * The product-quantized file (pq, written here beside the others as `hunch export --quant pq`
 * would) runs on the worker's own GPT-2 with the asymmetric-distance kernel on WASM
 * ('pq-simd') and on onnxruntime-web's graph on WebGPU: both give Node's top 20. The demo
 * model's pq file has OPQ's rotation (`--pq-rotation-rounds 8`), which the worker turns the
 * query and the embedded rows by and onnxruntime-web runs as MatMuls; the heads model's has none
 * (the default, as files exported before the rotation), which still loads.
 */
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COSINE_SCALE, ITEM_BIAS, REPEAT_BIAS, REPEAT_WEIGHT, parseManifest, type HunchManifest } from '@hunch/core';
import { startStorefront } from '../../examples/storefront/server.mjs';
import { parseHfConfig } from '../../packages/trainer/src/checkpoint.js';
import { buildOnnxModel, exportedTable } from '../../packages/trainer/src/onnx/gpt2.js';
import { quantizePq, type PqOptions } from '../../packages/trainer/src/onnx/pq.js';
import { decodeSafetensors } from '../../packages/trainer/src/safetensors.js';
import { launchChromium } from './chromium.js';
import { expectSameTopK, nodeRanking, recommendInBrowser, type Dtype, type HistoryEvent, type Ranking, type Storefront } from './engine-ranking.js';

const DEMO = fileURLToPath(new URL('../../models/demo/', import.meta.url));
const FILE: Record<Dtype, string> = { fp32: 'onnx/model.onnx', q8: 'onnx/model_quantized.onnx', q4: 'onnx/model_q4.onnx', pq: 'onnx/model_pq.onnx' };
const VARIANT: Record<Dtype, 'fp32' | 'int8' | 'q4' | 'pq'> = { fp32: 'fp32', q8: 'int8', q4: 'q4', pq: 'pq' };
const K = 20;

/** Browsing only (no cart): nothing is excluded, so the SDK's top 20 is the model's. Items repeat. */
const HISTORY: HistoryEvent[] = [
  { name: 'page_view', params: { page_path: '/' } },
  { name: 'view_item', params: { item_id: 'mugs-01' } },
  { name: 'view_item', params: { item_id: 'tea-02' } },
  { name: 'search', params: { search_term: 'green tea' } },
  { name: 'view_item', params: { item_id: 'tea-05' } },
  { name: 'view_item', params: { item_id: 'mugs-01' } },
  { name: 'view_item', params: { item_id: 'lamps-03' } },
  { name: 'view_item', params: { item_id: 'tea-02' } },
];

/** The demo model with a pq file (hunch export --quant pq --pq-rotation-rounds 8) beside its others. */
async function writeDemoModel(dir: string): Promise<void> {
  await cp(DEMO, dir, { recursive: true });
  const config = parseHfConfig(JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')), 'config.json');
  const { tensors } = decodeSafetensors(await readFile(join(dir, 'model.safetensors')));
  await writeVariants(dir, config, tensors, ['pq'], (manifest) => manifest, { rotationRounds: 8 });
}

/** Writes the graphs of `variants` into `dir`, listed in its hunch.json (`change`d too); the pq table quantized with `pq`. */
async function writeVariants(dir: string, config: ReturnType<typeof parseHfConfig>, tensors: ReturnType<typeof decodeSafetensors>['tensors'], variants: ReadonlyArray<'fp32' | 'int8' | 'q4' | 'pq'>, change: (manifest: HunchManifest) => HunchManifest, pq: PqOptions): Promise<void> {
  const manifest = JSON.parse(await readFile(join(dir, 'hunch.json'), 'utf8')) as HunchManifest;
  const pqTable = quantizePq(exportedTable(config, tensors), config.vocabSize, config.nEmbd, pq);
  expect(pqTable.rotation !== undefined).toBe(pq.rotationRounds! > 0);
  for (const variant of variants) {
    const bytes = buildOnnxModel(config, tensors, variant, pqTable);
    const file = FILE[variant === 'int8' ? 'q8' : variant];
    await writeFile(join(dir, file), bytes);
    manifest.files[file] = { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length };
    manifest.onnx!.variants[variant] = file;
  }
  await writeFile(join(dir, 'hunch.json'), `${JSON.stringify(change(manifest), null, 2)}\n`);
}

/** The demo weights with next-item heads: smooth made-up values, large enough to change the ranking; a pq file without a rotation. */
async function writeHeadsModel(dir: string): Promise<void> {
  await cp(DEMO, dir, { recursive: true });
  const config = parseHfConfig(JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')), 'config.json');
  const { tensors } = decodeSafetensors(await readFile(join(dir, 'model.safetensors')));
  const wave = (n: number, k: number, amplitude: number) => Float32Array.from({ length: n }, (_, i) => amplitude * Math.sin(i * k + 0.3));
  tensors.set(ITEM_BIAS, { shape: [config.vocabSize], data: wave(config.vocabSize, 1.7, 0.5) });
  tensors.set(REPEAT_WEIGHT, { shape: [config.nEmbd], data: wave(config.nEmbd, 2.3, 0.3) });
  tensors.set(REPEAT_BIAS, { shape: [1], data: Float32Array.of(1.5) });
  tensors.set(COSINE_SCALE, { shape: [1], data: Float32Array.of(12) });
  await writeVariants(dir, config, tensors, ['fp32', 'int8', 'q4', 'pq'], (manifest) => ({
    ...manifest,
    onnx: { ...manifest.onnx!, itemBias: true, cosineScale: 12, repeat: { output: 'hunch_repeat', addTo: 'history-items' } },
  }), { rotationRounds: 0 });
}

const MODELS = ['demo', 'demo-heads'] as const;
/**
 * The defaults (int8 on WASM, q4 on WebGPU) on both models; the rest by override on the demo
 * model (each browser load costs seconds; the heads graphs of every variant are checked
 * against the trainer in packages/trainer/test/export-quant.test.ts).
 */
const CASES: Array<{ backend: 'webgpu' | 'wasm'; dtype: Dtype; requested: Dtype | undefined; models: ReadonlyArray<(typeof MODELS)[number]>; viaTag?: boolean }> = [
  { backend: 'wasm', dtype: 'q8', requested: undefined, models: MODELS },
  { backend: 'wasm', dtype: 'fp32', requested: 'fp32', models: ['demo'] },
  // Requested by the script tag's data-dtype="q4" (the others by createHunch's dtype).
  { backend: 'wasm', dtype: 'q4', requested: 'q4', models: ['demo'], viaTag: true },
  { backend: 'webgpu', dtype: 'q4', requested: undefined, models: MODELS },
  { backend: 'webgpu', dtype: 'fp32', requested: 'fp32', models: ['demo'] },
  // pq: the worker's own GPT-2 and ADC kernel on WASM; on WebGPU onnxruntime-web's graph (the fp32 file's place): SwiftShader is a
  // software adapter, on which the worker does not score items in its compute shader (pq-webgpu.ts, checked in pq-webgpu.test.ts).
  { backend: 'wasm', dtype: 'pq', requested: 'pq', models: MODELS },
  { backend: 'webgpu', dtype: 'pq', requested: 'pq', models: ['demo'] },
];

let work: string;
let storefront: Storefront;
const manifests = new Map<string, HunchManifest>();
const expected = new Map<string, Ranking>();

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'hunch-variants-'));
  await writeDemoModel(join(work, 'demo'));
  await writeHeadsModel(join(work, 'demo-heads'));
  for (const model of MODELS) {
    const dir = join(work, model);
    const manifest = parseManifest(JSON.parse(await readFile(join(dir, 'hunch.json'), 'utf8')));
    manifests.set(model, manifest);
    for (const dtype of ['fp32', 'q8', 'q4', 'pq'] as const) expected.set(`${model}/${dtype}`, await nodeRanking(dir, manifest, FILE[dtype], HISTORY, K));
  }
  storefront = await startStorefront({ port: 0, modelsDir: work });
});

afterAll(async () => {
  await storefront?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the reference rankings in Node', () => {
  it('are real: the heads model’s repeat bonus changes its top 20, and the variants rank alike', async () => {
    const heads = manifests.get('demo-heads')!;
    expect(heads.onnx?.repeat).toEqual({ output: 'hunch_repeat', addTo: 'history-items' });
    const withoutBonus = await nodeRanking(join(work, 'demo-heads'), heads, FILE.fp32, HISTORY, K, { repeat: false });
    expect(withoutBonus.ids).not.toEqual(expected.get('demo-heads/fp32')!.ids);
    for (const model of MODELS) {
      // Quantization may reorder a little, but it is the same model.
      const fp32 = new Set(expected.get(`${model}/fp32`)!.ids.slice(0, 10));
      for (const dtype of ['q8', 'q4', 'pq'] as const) {
        const overlap = expected.get(`${model}/${dtype}`)!.ids.slice(0, 10).filter((id) => fp32.has(id)).length;
        expect(overlap, `${model} ${dtype}`).toBeGreaterThanOrEqual(7);
      }
    }
  });
});

for (const backend of ['wasm', 'webgpu'] as const) {
  describe(`ONNX variants on ${backend}`, () => {
    let browser: Browser;
    let context: BrowserContext;
    beforeAll(async () => {
      browser = await launchChromium({ webgpu: backend === 'webgpu' });
      context = await browser.newContext();
    });
    afterAll(async () => browser?.close());

    for (const { dtype, requested, models, viaTag } of CASES.filter((c) => c.backend === backend)) {
      const how = requested ? (viaTag ? ' (data-dtype)' : ' (requested)') : ' (default)';
      // Software WebGPU compiles its shaders on the CPU: a minute or more per model on 2 busy cores.
      it(`${dtype}${how}: the worker's top ${K} equal Node's (${models.join(', ')})`, { timeout: 300_000 }, async () => {
        for (const model of models) {
          const { status, stored, recs, onnxRequests, loadMs, recommendMs } = await recommendInBrowser(context, storefront, model, backend, requested, HISTORY, K, { viaTag });
          const why = requested ? `${requested} requested` : `${dtype} is the default on ${backend}`;
          expect(status).toMatchObject({ backend, dtype, modelFile: FILE[dtype], modelVersion: manifests.get(model)!.version, reason: expect.stringContaining(why) });
          // On WASM the int8 file runs on the worker's own GPT-2 and item kernel (gpt2/, item-head/): checked here against Node's whole graph.
          // So does the pq file, scored by asymmetric distance on its codes (item-head/pq-scorer.ts).
          const own = backend === 'wasm' && (dtype === 'q8' || dtype === 'pq');
          expect([status.engine, status.itemScoring]).toEqual(own ? ['hunch-gpt2', dtype === 'pq' ? 'pq-simd' : 'int8-simd'] : ['onnxruntime-web', 'graph']);
          // The variant asked for is the one fetched, and the only one.
          expect(onnxRequests).toEqual([`models/${model}/${FILE[dtype]}`]);
          expect(manifests.get(model)!.onnx!.variants[VARIANT[dtype]]).toBe(FILE[dtype]);
          expect(stored).toEqual(HISTORY);
          expect(recs.every((rec) => rec.source === 'model')).toBe(true);

          const node = expected.get(`${model}/${dtype}`)!;
          expectSameTopK(
            recs.map((rec) => rec.id),
            node,
            K,
            1e-4,
          );
          const worst = Math.max(...recs.map((rec) => Math.abs(rec.score - node.probability.get(rec.id)!)));
          expect(worst, `${model}: probabilities`).toBeLessThan(1e-4);
          const same = recs.map((rec) => rec.id).join(',') === node.ids.join(',');
          console.log(`${backend} ${dtype} ${model}: top ${K} ${same ? 'identical' : 'equal up to ties'}, max |Δp| ${worst.toExponential(2)}, load ${Math.round(loadMs)} ms, recommend ${Math.round(recommendMs)} ms`);
        }
      });
    }
  });
}
