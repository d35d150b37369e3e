import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { parseManifest, Vocabulary } from '@hunch/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCheckpoint, type Checkpoint } from '../src/checkpoint.js';
import { exportModel } from '../src/export.js';
import { GPT2 } from '../src/model.js';
import { decodeSafetensors, encodeSafetensors } from '../src/safetensors.js';
import { DEFAULT_EVENT_TRAIN_OPTIONS, trainEvents } from '../src/train-events.js';
import { writeEventsFile } from './event-files.js';
import { catalogPath, simulated, tinyOptions } from './helpers.js';
import { expectTokenizerMatches, fixedInput, logitsThreeWays, maxAbsDiff } from './parity.js';

let work: string;
let checkpoint: Checkpoint;
let checkpointDir: string;
let modelDir: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'hunch-export-'));
  const eventsPath = join(work, 'events.ndjson');
  await writeEventsFile(eventsPath, simulated(200, 4));
  const { layers, embd, heads, context, lr, seed } = tinyOptions;
  ({ checkpoint } = await trainEvents(eventsPath, { ...DEFAULT_EVENT_TRAIN_OPTIONS, layers, embd, heads, context, lr, seed, epochs: 3, batchTokens: 256, workers: 1 }));
  checkpointDir = join(work, 'checkpoint');
  modelDir = join(work, 'model');
  await writeCheckpoint(checkpointDir, checkpoint);
  await exportModel({ checkpoint: checkpointDir, catalog: catalogPath, out: modelDir });
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('export', () => {
  it('gives the same logits in tfjs, onnxruntime-node and transformers.js', async () => {
    const vocabulary = new Vocabulary(checkpoint.state.vocabulary);
    const input = fixedInput(vocabulary);
    const { ids, mask, dims } = input;
    const [, T] = dims;
    const logits = await logitsThreeWays(checkpoint, modelDir, input);
    const ortVsTfjs = maxAbsDiff(logits.ort, logits.tfjs);
    const hfVsTfjs = maxAbsDiff(logits.transformers, logits.tfjs);
    console.log(`parity max abs diff: onnxruntime-node ${ortVsTfjs.toExponential(2)}, transformers.js ${hfVsTfjs.toExponential(2)}`);
    expect(ortVsTfjs).toBeLessThan(1e-4);
    expect(hfVsTfjs).toBeLessThan(1e-4);

    // Padding must not change the real positions of the padded row.
    const short = ids.slice(T, T + mask.slice(T).filter(Boolean).length);
    const alone = await (async () => {
      const m = new GPT2(checkpoint.config, checkpoint.weights);
      const out = tf.tidy(() => m.forward(tf.tensor2d(short, [1, short.length], 'int32')).dataSync() as Float32Array);
      m.dispose();
      return out;
    })();
    const V = checkpoint.config.vocabSize;
    expect(maxAbsDiff(alone, logits.ort.slice(T * V, T * V + short.length * V))).toBeLessThan(1e-4);
  });

  it('writes a manifest that core accepts, with correct hashes and catalog', async () => {
    const manifest = parseManifest(JSON.parse(await readFile(join(modelDir, 'hunch.json'), 'utf8')));
    const safetensors = await readFile(join(modelDir, 'model.safetensors'));
    expect(manifest.version).toBe(createHash('sha256').update(safetensors).digest('hex').slice(0, 12));
    expect(manifest.encoding.maxLength).toBe(tinyOptions.context);
    expect(manifest.vocabulary).toEqual(checkpoint.state.vocabulary);
    expect(Object.keys(manifest.files).sort()).toEqual(
      ['config.json', 'generation_config.json', 'model.safetensors', 'onnx/model.onnx', 'tokenizer.json', 'tokenizer_config.json'],
    );
    for (const [path, entry] of Object.entries(manifest.files)) {
      const bytes = await readFile(join(modelDir, path));
      expect(entry.bytes, path).toBe(bytes.length);
      expect(entry.sha256, path).toBe(createHash('sha256').update(bytes).digest('hex'));
    }
    const vocabulary = new Vocabulary(manifest.vocabulary);
    const items = new Set(vocabulary.items().map((i) => i.itemId));
    expect(manifest.catalog.length).toBeGreaterThan(0);
    expect(manifest.catalog.every((p) => items.has(p.id))).toBe(true);
    const counts = checkpoint.state.itemCounts;
    for (let i = 1; i < manifest.popular.length; i++) {
      expect(counts[manifest.popular[i - 1]!]!).toBeGreaterThanOrEqual(counts[manifest.popular[i]!]!);
    }
    expect(manifest.training.steps).toBe(checkpoint.state.training.steps);
    expect(manifest.training.steps).toBeGreaterThan(0);
    expect(await readFile(join(modelDir, 'model.safetensors'))).toEqual(await readFile(join(checkpointDir, 'model.safetensors')));
  });

  it('writes a tokenizer that transformers.js reads exactly as the Hunch encoding', async () => {
    await expectTokenizerMatches(modelDir, new Vocabulary(checkpoint.state.vocabulary, checkpoint.state.merges));
  });

  it('refuses a mis-shaped tensor, naming it, and leaves the existing output untouched', async () => {
    const broken = join(work, 'broken');
    await writeCheckpoint(broken, checkpoint);
    const path = join(broken, 'model.safetensors');
    const { tensors } = decodeSafetensors(await readFile(path));
    const name = 'transformer.h.1.mlp.c_fc.weight';
    const original = tensors.get(name)!;
    tensors.set(name, { shape: [original.shape[1]!, original.shape[0]!], data: original.data });
    await writeFile(path, encodeSafetensors(tensors));

    const before = await snapshot(modelDir);
    await expect(exportModel({ checkpoint: broken, catalog: catalogPath, out: modelDir })).rejects.toThrow(name);
    expect(await snapshot(modelDir)).toEqual(before);

    tensors.delete('transformer.ln_f.bias');
    tensors.set(name, original);
    await writeFile(path, encodeSafetensors(tensors));
    await expect(exportModel({ checkpoint: broken, catalog: catalogPath, out: modelDir })).rejects.toThrow('transformer.ln_f.bias');
    expect(await snapshot(modelDir)).toEqual(before);
    // No temporary directories left beside it.
    expect((await readdir(work)).sort()).toEqual(['broken', 'checkpoint', 'events.ndjson', 'model']);
  });
});

describe('export of the item bias', () => {
  it('adds lm_head.bias to the logits, and refuses tensors the graph cannot compute', async () => {
    const V = checkpoint.config.vocabSize;
    const bias = Float32Array.from({ length: V }, (_, i) => ((i * 37) % 11) / 5 - 1);
    const withBias: Checkpoint = { ...checkpoint, weights: new Map([...checkpoint.weights, ['lm_head.bias', { shape: [V], data: bias }]]) };
    const biasDir = join(work, 'with-bias');
    const biasModel = join(work, 'with-bias-model');
    await writeCheckpoint(biasDir, withBias);
    await exportModel({ checkpoint: biasDir, catalog: catalogPath, out: biasModel });
    const input = fixedInput(new Vocabulary(checkpoint.state.vocabulary));
    const logits = await logitsThreeWays(checkpoint, biasModel, input); // tfjs: the plain GPT-2
    const expected = logits.tfjs.map((x, i) => x + bias[i % V]!);
    expect(maxAbsDiff(logits.ort, expected)).toBeLessThan(1e-4);
    expect(maxAbsDiff(logits.transformers, expected)).toBeLessThan(1e-4);

    const repeatDir = join(work, 'with-repeat');
    await writeCheckpoint(repeatDir, { ...withBias, weights: new Map([...withBias.weights, ['hunch.repeat.weight', { shape: [checkpoint.config.nEmbd], data: new Float32Array(checkpoint.config.nEmbd) }]]) });
    const before = await snapshot(biasModel);
    await expect(exportModel({ checkpoint: repeatDir, catalog: catalogPath, out: biasModel })).rejects.toThrow(/cannot compute hunch\.repeat\.weight/);
    expect(await snapshot(biasModel)).toEqual(before);
  });
});

async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out[path] = createHash('sha256').update(await readFile(path)).digest('hex');
  }
  return out;
}
