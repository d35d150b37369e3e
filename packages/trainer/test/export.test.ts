import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { AutoModelForCausalLM, AutoTokenizer, env, Tensor } from '@huggingface/transformers';
import * as ort from 'onnxruntime-node';
import { MAX_SEARCH_PIECES, encodeHistory, parseManifest, Vocabulary } from '@hunch/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCheckpoint, type Checkpoint } from '../src/checkpoint.js';
import { exportModel } from '../src/export.js';
import { GPT2 } from '../src/model.js';
import { decodeSafetensors, encodeSafetensors } from '../src/safetensors.js';
import { train, trainingCheckpoint } from '../src/train.js';
import { catalogPath, simulated, tinyOptions } from './helpers.js';

let work: string;
let checkpoint: Checkpoint;
let checkpointDir: string;
let modelDir: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'hunch-export-'));
  const events = simulated(200, 4);
  const result = await train(events, { ...tinyOptions, steps: 40 });
  checkpoint = trainingCheckpoint(result, events.length, 0);
  checkpointDir = join(work, 'checkpoint');
  modelDir = join(work, 'model');
  await writeCheckpoint(checkpointDir, checkpoint);
  await exportModel({ checkpoint: checkpointDir, catalog: catalogPath, out: modelDir });
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/** Token ids of a full row and a right-padded row, within the tiny context of 16. */
function fixedInput(vocabulary: Vocabulary) {
  const tokens = (...t: string[]) => t.map((token) => vocabulary.id(token));
  const full = tokens('[BOS]', '<page_view>', 'item:mugs-01', 'item:mugs-02', '<add_to_cart>', 'item:mugs-02', 'item:tea-03');
  const short = tokens('[BOS]', '<page_view>', 'item:shoes-02', '<search>');
  const n = full.length;
  const ids = [...full, ...short, ...Array<number>(n - short.length).fill(0)];
  const mask = [...Array<number>(n).fill(1), ...Array<number>(short.length).fill(1), ...Array<number>(n - short.length).fill(0)];
  return { ids, mask, dims: [2, n] };
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
};

describe('export', () => {
  it('gives the same logits in tfjs, onnxruntime-node and transformers.js', async () => {
    const vocabulary = new Vocabulary(checkpoint.state.vocabulary);
    const { ids, mask, dims } = fixedInput(vocabulary);
    const [B, T] = dims as [number, number];

    const model = new GPT2(checkpoint.config, checkpoint.weights);
    const tfjsLogits = tf.tidy(() =>
      model.forward(tf.tensor2d(ids, [B, T], 'int32'), tf.tensor2d(mask, [B, T], 'int32')).dataSync() as Float32Array,
    );
    model.dispose();

    const toInt64 = (xs: number[]) => BigInt64Array.from(xs.map(BigInt));
    const session = await ort.InferenceSession.create(join(modelDir, 'onnx/model.onnx'));
    expect(session.inputNames).toEqual(['input_ids', 'attention_mask']);
    const ortOut = await session.run({
      input_ids: new ort.Tensor('int64', toInt64(ids), dims),
      attention_mask: new ort.Tensor('int64', toInt64(mask), dims),
    });
    const ortLogits = ortOut.logits!;
    expect(ortLogits.dims).toEqual([B, T, checkpoint.config.vocabSize]);
    await session.release();

    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = `${dirname(modelDir)}/`;
    const hf = await AutoModelForCausalLM.from_pretrained(basename(modelDir), { local_files_only: true, dtype: 'fp32', device: 'cpu' });
    const hfOut = (await hf({
      input_ids: new Tensor('int64', toInt64(ids), dims),
      attention_mask: new Tensor('int64', toInt64(mask), dims),
    })) as { logits: Tensor };
    expect(hfOut.logits.dims).toEqual([B, T, checkpoint.config.vocabSize]);
    await hf.dispose();

    const ortVsTfjs = maxAbsDiff(ortLogits.data as Float32Array, tfjsLogits);
    const hfVsTfjs = maxAbsDiff(hfOut.logits.data as Float32Array, tfjsLogits);
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
    expect(maxAbsDiff(alone, (ortLogits.data as Float32Array).slice(T * V, T * V + short.length * V))).toBeLessThan(1e-4);
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
    expect(manifest.training.steps).toBe(40);
    expect(await readFile(join(modelDir, 'model.safetensors'))).toEqual(await readFile(join(checkpointDir, 'model.safetensors')));
  });

  it('writes a tokenizer that transformers.js reads exactly as the Hunch encoding', async () => {
    env.localModelPath = `${dirname(modelDir)}/`;
    const tokenizer = await AutoTokenizer.from_pretrained(basename(modelDir));
    const vocabulary = new Vocabulary(checkpoint.state.vocabulary, checkpoint.state.merges);
    const events = [
      { name: 'page_view', params: {} },
      { name: 'search', params: { search_term: '  Green TEA!' } },
      { name: 'view_item', params: { item_id: 'tea-02' } },
      { name: 'add_to_cart', params: { item_id: 'tea-02' } },
      { name: 'search', params: { search_term: 'Tea für' } },
    ] as const;
    const hunchIds = encodeHistory(events, vocabulary, 64);
    // The HF tokenizer gets the raw search text; everything else as Hunch token strings.
    const text = ['[BOS]', ...events.map((e) => (e.name === 'search' ? `<search> ${e.params.search_term}` : vocabulary.eventTokens(e).join(' ')))].join(' ');
    for (const event of events.filter((e) => e.name === 'search')) {
      expect(vocabulary.eventTokens(event).length - 1, vocabulary.eventTokens(event).join(' ')).toBeLessThan(MAX_SEARCH_PIECES); // no piece capped away
    }
    expect(hunchIds).not.toContain(vocabulary.id('[UNK]'));
    expect(tokenizer.encode(text, { add_special_tokens: false })).toEqual(hunchIds);
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
    expect((await readdir(work)).sort()).toEqual(['broken', 'checkpoint', 'model']);
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
