import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { AutoModelForCausalLM, env, Tensor } from '@huggingface/transformers';
import * as ort from 'onnxruntime-node';
import { CATALOG_SHARD_LISTING, DECISION_FEATURES, decodeShardListing, isItemToken, ITEM_ID_SHARD_LISTING, ITEM_TOKEN_SHARD_LISTING, listedShards, parseCatalog, parseManifest, SHARD_FAMILIES, Vocabulary } from '@hunch/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBaseModel } from '../src/base-model.js';
import { writeCheckpoint, type Checkpoint } from '../src/checkpoint.js';
import { exportModel, parseQuant, POLICY_FILE, type ExportManifest } from '../src/export.js';
import { modelFiles } from '../src/model-directory.js';
import { GPT2 } from '../src/model.js';
import { writeNextItemCheckpoint } from '../src/next-item/checkpoint.js';
import { NextItemScorer } from '../src/next-item/scorer.js';
import { decodeSafetensors, encodeSafetensors } from '../src/safetensors.js';
import { DEFAULT_EVENT_TRAIN_OPTIONS, trainEvents } from '../src/train-events.js';
import { writeEventsFile } from './event-files.js';
import { catalogPath, simulated, tinyOptions } from './helpers.js';
import { expectTokenizerMatches, fixedInput, logitsThreeWays, maxAbsDiff, ortRun, pastFrom, toInt64, withHeads, TOKENIZER_EVENTS } from './parity.js';

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

/** tfjs logits [T, V] of one unpadded row. */
function tfjsLogits(ids: number[]): Float32Array {
  const model = new GPT2(checkpoint.config, checkpoint.weights);
  const out = tf.tidy(() => model.forward(tf.tensor2d(ids, [1, ids.length], 'int32')).dataSync() as Float32Array);
  model.dispose();
  return out;
}

async function loadTransformers(dir: string) {
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = `${dirname(dir)}/`;
  return AutoModelForCausalLM.from_pretrained(basename(dir), { local_files_only: true, dtype: 'fp32', device: 'cpu' });
}

describe('export (fp32, KV cache)', () => {
  it('gives the same logits in tfjs, onnxruntime-node and transformers.js', async () => {
    const vocabulary = new Vocabulary(checkpoint.metadata.vocabulary);
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
    const V = checkpoint.config.vocabSize;
    expect(maxAbsDiff(tfjsLogits(short), logits.ort.slice(T * V, T * V + short.length * V))).toBeLessThan(1e-4);
  });

  it('continues from its KV cache exactly as a full forward', async () => {
    const { config } = checkpoint;
    const V = config.vocabSize;
    const { ids, dims } = fixedInput(new Vocabulary(checkpoint.metadata.vocabulary));
    const row = ids.slice(0, dims[1]);
    const full = tfjsLogits(row);
    const session = await ort.InferenceSession.create(join(modelDir, 'onnx/model.onnx'));
    // A 4-token prefix, then one token at a time with the cache.
    let out = await ortRun(session, config, row.slice(0, 4), [1, 1, 1, 1], [1, 4]);
    let worst = maxAbsDiff(out.logits!.data as Float32Array, full.slice(0, 4 * V));
    for (let t = 4; t < row.length; t++) {
      const past = pastFrom(out);
      expect(past['past_key_values.1.value']!.dims).toEqual([1, config.nHead, t, config.nEmbd / config.nHead]);
      out = await ortRun(session, config, [row[t]!], Array<number>(t + 1).fill(1), [1, 1], past);
      expect(out.logits!.dims).toEqual([1, 1, V]);
      worst = Math.max(worst, maxAbsDiff(out.logits!.data as Float32Array, full.slice(t * V, (t + 1) * V)));
    }
    // A 3-token continuation of the 4-token prefix keeping 1 / 3 / all logits rows; the cache grows by 3 regardless.
    const prefix = await ortRun(session, config, row.slice(0, 4), [1, 1, 1, 1], [1, 4]);
    const continuation = (keep: number) => ortRun(session, config, row.slice(4, 7), Array<number>(7).fill(1), [1, 3], pastFrom(prefix), keep);
    const all = await continuation(0);
    expect(all.logits!.dims).toEqual([1, 3, V]);
    for (const keep of [1, 3]) {
      const kept = await continuation(keep);
      expect(kept.logits!.dims).toEqual([1, keep, V]);
      expect(kept['present.0.key']!.dims).toEqual([1, config.nHead, 7, config.nEmbd / config.nHead]);
      expect(maxAbsDiff(kept.logits!.data as Float32Array, (all.logits!.data as Float32Array).slice((3 - keep) * V))).toBeLessThanOrEqual(1e-6);
    }
    worst = Math.max(worst, maxAbsDiff((await continuation(1)).logits!.data as Float32Array, full.slice(6 * V, 7 * V)));
    await session.release();
    console.log(`incremental vs full forward: max abs diff ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-4);
  });

  it('generates in transformers.js the tokens of a greedy loop over tfjs logits', async () => {
    const vocabulary = new Vocabulary(checkpoint.metadata.vocabulary);
    const prompt = [vocabulary.bos, vocabulary.id('<page_view>'), vocabulary.id('item:mugs-01'), vocabulary.id('item:mugs-02')];
    const newTokens = 8;
    const V = checkpoint.config.vocabSize;
    const expected = [...prompt];
    for (let i = 0; i < newTokens; i++) {
      const last = tfjsLogits(expected).slice((expected.length - 1) * V);
      const next = last.indexOf(Math.max(...last));
      expected.push(next);
      if (next === vocabulary.bos) break; // eos
    }
    const hf = await loadTransformers(modelDir);
    const dims = [1, prompt.length];
    const sequences = (await hf.generate({
      input_ids: new Tensor('int64', toInt64(prompt), dims),
      attention_mask: new Tensor('int64', toInt64(prompt.map(() => 1)), dims),
      max_new_tokens: newTokens,
      do_sample: false,
    })) as Tensor;
    await hf.dispose();
    const generated = Array.from(sequences.data as BigInt64Array, Number);
    console.log(`greedy generate: ${generated.slice(prompt.length).map((id) => vocabulary.tokens[id]).join(' ')}`);
    expect(generated).toEqual(expected);
  });

  it('writes a manifest that core accepts, with every file, its hash and bytes, and the catalog', async () => {
    const text = await readFile(join(modelDir, 'hunch.json'), 'utf8');
    const raw = JSON.parse(text) as ExportManifest;
    const manifest = parseManifest(raw);
    // One line per field, values compact: every browser's cold start reads and parses this file.
    expect(text.trimEnd().split('\n')).toHaveLength(Object.keys(raw).length + 2);
    expect(text.length).toBe(JSON.stringify(raw).length + 4 * Object.keys(raw).length + 2);
    const safetensors = await readFile(join(modelDir, 'model.safetensors'));
    expect(manifest.version).toBe(createHash('sha256').update(safetensors).digest('hex').slice(0, 12));
    expect(manifest.encoding.maxLength).toBe(tinyOptions.context);
    expect(manifest.vocabulary).toEqual(checkpoint.metadata.vocabulary);
    const onnxFiles = ['onnx/model.onnx', 'onnx/model_q4.onnx', 'onnx/model_quantized.onnx'];
    expect(Object.keys(manifest.files).sort()).toEqual(
      ['catalog.json', 'config.json', 'generation_config.json', 'model.safetensors', ...onnxFiles, 'purchase.json', 'tokenizer.json', 'tokenizer_config.json'],
    );
    // The simulated shoppers buy: training fitted the session purchase model, and it ships, named and hashed.
    expect(checkpoint.metadata.purchase).toBeDefined();
    expect(manifest.purchase).toBe('purchase.json');
    expect(JSON.parse(await readFile(join(modelDir, 'purchase.json'), 'utf8'))).toEqual(checkpoint.metadata.purchase);
    const onDisk = (await readdir(modelDir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(modelDir.length + 1));
    expect(onDisk.sort()).toEqual([...Object.keys(manifest.files), 'hunch.json'].sort());
    for (const [path, entry] of Object.entries(manifest.files)) {
      const bytes = await readFile(join(modelDir, path));
      expect(entry.bytes, path).toBe(bytes.length);
      expect(entry.sha256, path).toBe(createHash('sha256').update(bytes).digest('hex'));
    }
    expect(raw.onnx).toEqual({
      variants: { fp32: 'onnx/model.onnx', int8: 'onnx/model_quantized.onnx', q4: 'onnx/model_q4.onnx' },
      cache: { layers: tinyOptions.layers, heads: tinyOptions.heads, headDim: tinyOptions.embd / tinyOptions.heads },
      itemBias: false,
      cosineScale: null,
      repeat: null,
    });
    const vocabulary = new Vocabulary(manifest.vocabulary);
    const items = new Set(vocabulary.items().map((i) => i.itemId));
    // The products and the popular list: in catalog.json, one product per line, listed in files.
    const catalogText = await readFile(join(modelDir, 'catalog.json'), 'utf8');
    const catalog = parseCatalog(JSON.parse(catalogText));
    expect(catalog.products.length).toBeGreaterThan(0);
    expect(catalog.products.every((p) => items.has(p.id))).toBe(true);
    expect(catalogText.split('\n').filter((line) => line.startsWith('{"id":'))).toHaveLength(catalog.products.length);
    expect(new Set(catalog.popular)).toEqual(new Set(catalog.products.map((p) => p.id)));
    const counts = checkpoint.metadata.itemCounts;
    for (let i = 1; i < catalog.popular.length; i++) {
      expect(counts[catalog.popular[i - 1]!]!).toBeGreaterThanOrEqual(counts[catalog.popular[i]!]!);
    }
    expect(raw).not.toHaveProperty('catalog');
    expect(raw).not.toHaveProperty('popular');
    expect(raw).not.toHaveProperty('policy'); // none given: none shipped, none listed
    expect(manifest.training.steps).toBe(checkpoint.metadata.training.steps);
    expect(manifest.training.steps).toBeGreaterThan(0);
    expect(safetensors).toEqual(await readFile(join(checkpointDir, 'model.safetensors')));
    for (const file of ['config.json', 'generation_config.json']) expect(JSON.parse(await readFile(join(modelDir, file), 'utf8')).use_cache, file).toBe(true);
  });

  it('past its threshold, writes the item tokens as shards hashed in their listings, that core accepts and a base model reads back whole', async () => {
    const out = join(work, 'sharded-vocabulary');
    const manifest = await exportModel({ checkpoint: checkpointDir, catalog: catalogPath, out, quant: ['fp32'], vocabularyLayout: { threshold: 0, tokensPerShard: 7, idsPerShard: 5 }, catalogLayout: { threshold: 0, shardBytes: 4096 } });
    const whole = checkpoint.metadata.vocabulary;
    const parsed = parseManifest(JSON.parse(await readFile(join(out, 'hunch.json'), 'utf8')));
    expect(parsed.itemVocabulary).toEqual(manifest.itemVocabulary);
    const { first, count } = parsed.itemVocabulary!;
    expect(parsed.vocabulary).toEqual(whole.slice(0, first));
    expect(first + count).toBe(whole.length);
    expect(whole.slice(first).every(isItemToken)).toBe(true);
    // hunch.json lists each shard family by its listing alone; the listing hashes every shard written.
    expect(Object.keys(parsed.files).filter((path) => path.startsWith('vocabulary/') || path.startsWith('catalog/')).sort()).toEqual(['catalog/index.json', CATALOG_SHARD_LISTING, ITEM_ID_SHARD_LISTING, ITEM_TOKEN_SHARD_LISTING].sort());
    const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
    const expected: Record<string, number | undefined> = { [ITEM_TOKEN_SHARD_LISTING]: Math.ceil(count / 7), [ITEM_ID_SHARD_LISTING]: parsed.itemVocabulary!.idShards, [CATALOG_SHARD_LISTING]: undefined };
    for (const family of SHARD_FAMILIES) {
      const bytes = await readFile(join(out, family.listing));
      expect(parsed.files[family.listing]).toEqual({ sha256: sha256(bytes), bytes: bytes.length });
      const shards = listedShards(family, decodeShardListing(bytes, family.listing, expected[family.listing]));
      expect(shards.length).toBeGreaterThan(1);
      for (const [path, entry] of shards) {
        const shard = await readFile(join(out, path));
        expect({ sha256: sha256(shard), bytes: shard.length }, path).toEqual(entry);
      }
      // Nothing past the last listed shard.
      await expect(readFile(join(out, family.file(shards.length)))).rejects.toThrow();
    }
    // What `hunch export` counts: every file written but hunch.json, the shards behind the listings included.
    const written = (await readdir(out, { recursive: true, withFileTypes: true })).filter((entry) => entry.isFile()).map((entry) => relative(out, join(entry.parentPath ?? entry.path, entry.name)));
    const counted = await modelFiles(out, manifest);
    expect(counted.map(([path]) => path).sort()).toEqual(written.filter((path) => path !== 'hunch.json').sort());
    for (const [path, { bytes }] of counted) expect(bytes, path).toBe((await readFile(join(out, path))).length);
    // What retraining starts from: the exported model's whole vocabulary, in token order.
    expect((await readBaseModel(out)).vocabulary.tokens).toEqual(whole);
    // Under the threshold (the default, for this small shop): one hunch.json, as before.
    expect(JSON.parse(await readFile(join(modelDir, 'hunch.json'), 'utf8'))).not.toHaveProperty('itemVocabulary');
    await rm(out, { recursive: true });
  });

  it('writes only the variants --quant names, and the same bytes every time', async () => {
    const fp32Only = join(work, 'fp32-only');
    const manifest = await exportModel({ checkpoint: checkpointDir, catalog: catalogPath, out: fp32Only, quant: ['fp32'], createdAt: '2024-01-01T00:00:00.000Z' });
    expect(Object.keys(manifest.files).filter((path) => path.startsWith('onnx/'))).toEqual(['onnx/model.onnx']);
    expect(manifest.onnx.variants).toEqual({ fp32: 'onnx/model.onnx' });
    // Byte for byte reproducible: every file of two exports of one checkpoint is the same.
    const [a, b] = [join(work, 'again-a'), join(work, 'again-b')];
    for (const out of [a, b]) await exportModel({ checkpoint: checkpointDir, catalog: catalogPath, out, createdAt: '2024-01-01T00:00:00.000Z' });
    expect(await snapshot(b, b)).toEqual(await snapshot(a, a));
    expect(Object.keys(await snapshot(a, a))).toHaveLength(11); // 8 model files, catalog.json, purchase.json and hunch.json
    for (const dir of [fp32Only, a, b]) await rm(dir, { recursive: true });
    expect(parseQuant('q4, fp32')).toEqual(['fp32', 'q4']);
    expect(() => parseQuant('fp32,int4')).toThrow('unknown quantization "int4"');
    expect(() => parseQuant(',')).toThrow('no quantization');
  });

  it('writes a tokenizer that transformers.js reads exactly as the Hunch encoding', async () => {
    const vocabulary = new Vocabulary(checkpoint.metadata.vocabulary, checkpoint.metadata.merges);
    // A product these 200 simulated sessions reached (not every one of the catalog's is).
    const item_id = vocabulary.items()[0]!.itemId;
    const events = TOKENIZER_EVENTS.map((event) => (event.params.item_id === undefined ? event : { ...event, params: { ...event.params, item_id } }));
    await expectTokenizerMatches(modelDir, vocabulary, events);
  });
});

describe('export with a strategy policy (--policy)', () => {
  const policy = {
    version: 1,
    id: 'learned-3',
    features: [...DECISION_FEATURES],
    epsilon: 0.1,
    strategies: { 'cart-nudge': { actions: { remind: { weights: DECISION_FEATURES.map((_, i) => (i === 0 ? 1 : 0)) }, none: { weights: DECISION_FEATURES.map(() => 0) } } } },
  };

  it('validates it, copies its bytes into the model directory and lists it with its hash in hunch.json', async () => {
    const source = join(work, 'learned.json');
    const bytes = Buffer.from(`${JSON.stringify(policy, null, 2)}\n`);
    await writeFile(source, bytes);
    const out = join(work, 'with-policy');
    const manifest = await exportModel({ checkpoint: checkpointDir, catalog: catalogPath, out, quant: ['fp32'], policy: source });
    expect(manifest.policy).toBe(POLICY_FILE);
    expect(manifest.files[POLICY_FILE]).toEqual({ sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length });
    expect(await readFile(join(out, POLICY_FILE))).toEqual(bytes);
    const written = parseManifest(JSON.parse(await readFile(join(out, 'hunch.json'), 'utf8')));
    expect(written.policy).toBe(POLICY_FILE);
    expect(written.files[POLICY_FILE]).toEqual(manifest.files[POLICY_FILE]);
    // The model's own files are those of an export without a policy.
    const plain = join(work, 'without-policy');
    const without = await exportModel({ checkpoint: checkpointDir, catalog: catalogPath, out: plain, quant: ['fp32'] });
    expect(without.policy).toBeUndefined();
    expect(Object.keys(manifest.files).filter((path) => path !== POLICY_FILE)).toEqual(Object.keys(without.files));
    for (const dir of [out, plain]) await rm(dir, { recursive: true });
  });

  it('refuses a policy that is missing, not JSON or does not validate, naming it and writing nothing', async () => {
    const out = join(work, 'refused-policy');
    const cases: Array<[string, string | undefined, RegExp]> = [
      ['missing.json', undefined, /policy .*missing\.json cannot be read: no such file/],
      ['broken.json', '{"version": 1,', /policy .*broken\.json is not JSON/],
      ['stale.json', JSON.stringify({ ...policy, features: ['bias'] }), /policy .*stale\.json does not validate: policy features must be/],
      ['epsilon.json', JSON.stringify({ ...policy, epsilon: 0 }), /does not validate: policy epsilon must be in \(0, 1\]/],
    ];
    const entries = (await readdir(work)).sort();
    for (const [name, text, message] of cases) {
      const source = join(work, name);
      if (text !== undefined) await writeFile(source, text);
      await expect(exportModel({ checkpoint: checkpointDir, catalog: catalogPath, out, quant: ['fp32'], policy: source })).rejects.toThrow(message);
      if (text !== undefined) await rm(source);
    }
    expect((await readdir(work)).sort()).toEqual(entries); // no output, no temporary directory
  });
});

describe('export of bad checkpoints', () => {
  /** Expects export of `dir` to fail naming `what`, leaving modelDir and the work directory as they were. */
  async function refuses(dir: string, what: string | RegExp): Promise<void> {
    const before = await snapshot(modelDir);
    const entries = (await readdir(work)).sort();
    await expect(exportModel({ checkpoint: dir, catalog: catalogPath, out: modelDir })).rejects.toThrow(what);
    expect(await snapshot(modelDir)).toEqual(before);
    expect((await readdir(work)).sort()).toEqual(entries); // no temporary directories left beside it
  }

  it('refuses a mis-shaped or missing tensor, naming it', async () => {
    const broken = join(work, 'broken');
    await writeCheckpoint(broken, checkpoint);
    const path = join(broken, 'model.safetensors');
    const { tensors } = decodeSafetensors(await readFile(path));
    const name = 'transformer.h.1.mlp.c_fc.weight';
    const original = tensors.get(name)!;
    tensors.set(name, { shape: [original.shape[1]!, original.shape[0]!], data: original.data });
    await writeFile(path, encodeSafetensors(tensors));
    await refuses(broken, name);

    tensors.delete('transformer.ln_f.bias');
    tensors.set(name, original);
    await writeFile(path, encodeSafetensors(tensors));
    await refuses(broken, 'transformer.ln_f.bias');
  });

  it('refuses head tensors that are mis-shaped, half there or unknown, naming them', async () => {
    const { nEmbd: D } = checkpoint.config;
    const cases: Array<[string, Array<[string, number[]]>, string | RegExp]> = [
      ['bias-shape', [['lm_head.bias', [3]]], /lm_head\.bias has shape \[3\]/],
      ['repeat-half', [['hunch.repeat.weight', [D]]], /missing tensor hunch\.repeat\.bias/],
      ['repeat-shape', [['hunch.repeat.weight', [D + 1]], ['hunch.repeat.bias', [1]]], /hunch\.repeat\.weight has shape/],
      ['unknown', [['hunch.mystery.weight', [D]]], /cannot compute hunch\.mystery\.weight/],
      ['scale-zero', [['hunch.cosine.scale', [1]]], /hunch\.cosine\.scale must be positive/],
    ];
    for (const [tag, extra, message] of cases) {
      const dir = join(work, `bad-${tag}`);
      const weights = new Map(checkpoint.weights);
      for (const [name, shape] of extra) weights.set(name, { shape, data: new Float32Array(shape.reduce((n, d) => n * d, 1)) });
      await writeCheckpoint(dir, { ...checkpoint, weights });
      await refuses(dir, message);
      await rm(dir, { recursive: true });
    }
  });

  it('refuses an unknown config field, or one the graph would not honour, naming it', async () => {
    const dir = join(work, 'bad-config');
    await writeCheckpoint(dir, checkpoint);
    const path = join(dir, 'config.json');
    const config = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
    await writeFile(path, JSON.stringify({ ...config, rotary_dim: 8 }));
    await refuses(dir, /unknown config field rotary_dim/);
    await writeFile(path, JSON.stringify({ ...config, scale_attn_by_inverse_layer_idx: true }));
    await refuses(dir, /scale_attn_by_inverse_layer_idx must be false/);
    await writeFile(path, JSON.stringify({ ...config, transformers_version: '4.40.0' }));
    await expect(exportModel({ checkpoint: dir, catalog: catalogPath, out: join(work, 'ok-config'), quant: ['fp32'] })).resolves.toBeDefined();
    await rm(join(work, 'ok-config'), { recursive: true });
    await rm(dir, { recursive: true });
  });
});

describe('export of the next-item heads', () => {
  it('computes NextItemScorer scores: cosine scoring and item bias in logits, the repeat bonus as hunch_repeat', async () => {
    const heads = withHeads(checkpoint);
    const dir = join(work, 'with-heads');
    const out = join(work, 'with-heads-model');
    await writeCheckpoint(dir, heads);
    const manifest = await exportModel({ checkpoint: dir, catalog: catalogPath, out, quant: ['fp32'] });
    expect(manifest.onnx).toMatchObject({ itemBias: true, cosineScale: 14, repeat: { output: 'hunch_repeat', addTo: 'history-items' } });

    const { config } = heads;
    const V = config.vocabSize;
    const vocabulary = new Vocabulary(checkpoint.metadata.vocabulary);
    const isItem = Uint8Array.from(vocabulary.tokens, (token) => (isItemToken(token) ? 1 : 0));
    const { ids, mask, dims } = fixedInput(vocabulary);
    const [B, T] = dims;
    const rows = Array.from({ length: B }, (_, b) => ids.slice(b * T, b * T + mask.slice(b * T, (b + 1) * T).filter(Boolean).length));
    const positions = rows.map((row) => row.map((_, t) => t));
    const scorer = new NextItemScorer(config, heads.weights, isItem);
    const expected = await scorer.scoreAt(rows, positions).data();
    scorer.dispose();

    const session = await ort.InferenceSession.create(join(out, 'onnx/model.onnx'));
    expect(session.outputNames).toContain('hunch_repeat');
    const result = await ortRun(session, config, ids, mask, dims);
    await session.release();
    const hf = await loadTransformers(out);
    const hfResult = (await hf({ input_ids: new Tensor('int64', toInt64(ids), dims), attention_mask: new Tensor('int64', toInt64(mask), dims) })) as Record<string, Tensor>;
    await hf.dispose();
    expect(maxAbsDiff(hfResult.logits!.data as Float32Array, result.logits!.data as Float32Array)).toBeLessThan(1e-5);
    expect(maxAbsDiff(hfResult.hunch_repeat!.data as Float32Array, result.hunch_repeat!.data as Float32Array)).toBeLessThan(1e-5);

    // Exported score of item c at (b, t): logits + hunch_repeat when c is among row b's tokens 0..t.
    const logits = result.logits!.data as Float32Array;
    const repeat = result.hunch_repeat!.data as Float32Array;
    expect(result.hunch_repeat!.dims).toEqual([B, T, 1]);
    let worst = 0;
    let m = 0;
    let bonuses = 0;
    rows.forEach((row, b) => {
      for (let t = 0; t < row.length; t++, m++) {
        const seen = new Set(row.slice(0, t + 1));
        for (let c = 0; c < V; c++) {
          if (!isItem[c]) continue;
          const bonus = seen.has(c) ? repeat[b * T + t]! : 0;
          if (seen.has(c)) bonuses++;
          worst = Math.max(worst, Math.abs(logits[(b * T + t) * V + c]! + bonus - expected[m * V + c]!));
        }
      }
    });
    console.log(`heads parity (cosine 14, bias, repeat; ${bonuses} repeat bonuses): max abs diff ${worst.toExponential(2)}`);
    expect(bonuses).toBeGreaterThan(3);
    expect(worst).toBeLessThan(1e-4);
  });
});

describe('export of a next-item checkpoint (hunch benchmark --out)', () => {
  it('exports the heads its metadata records, and refuses a record the tensors contradict', async () => {
    const heads = withHeads(checkpoint);
    const model = { config: heads.config, weights: heads.weights, vocabulary: checkpoint.metadata.vocabulary };
    const info = { itemCounts: checkpoint.metadata.itemCounts, training: checkpoint.metadata.training };
    const dir = join(work, 'next-item');
    await writeNextItemCheckpoint(dir, { ...model, heads: { itemBias: true, repeat: true, cosineScale: 14 } }, info);
    const out = join(work, 'next-item-model');
    const manifest = await exportModel({ checkpoint: dir, catalog: catalogPath, out, quant: ['fp32'] });
    expect(manifest.onnx).toMatchObject({ itemBias: true, cosineScale: 14, repeat: { output: 'hunch_repeat' } });
    await rm(out, { recursive: true });
    await writeNextItemCheckpoint(dir, { ...model, heads: { itemBias: true, repeat: true, cosineScale: 10 } }, info);
    await expect(exportModel({ checkpoint: dir, catalog: catalogPath, out, quant: ['fp32'] })).rejects.toThrow('nextItem.heads.cosineScale');
    await writeNextItemCheckpoint(dir, { ...model, heads: { itemBias: true, repeat: false, cosineScale: 14 } }, info);
    await expect(exportModel({ checkpoint: dir, catalog: catalogPath, out, quant: ['fp32'] })).rejects.toThrow('nextItem.heads.repeat');
    await rm(dir, { recursive: true });
  });
});

async function snapshot(dir: string, relativeTo = ''): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out[relativeTo ? path.slice(relativeTo.length + 1) : path] = createHash('sha256').update(await readFile(path)).digest('hex');
  }
  return out;
}
