/**
 * The quantized ONNX files: int8 (model_quantized.onnx) and 4-bit MatMulNBits
 * (model_q4.onnx). Each computes exactly the fp32 graph of its dequantized weights (so the
 * packing is what onnxruntime's kernels read), runs at every graph optimization level with
 * the same outputs, and ranks items close to fp32.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { basename, dirname } from 'node:path';
import { AutoModelForCausalLM, env, Tensor } from '@huggingface/transformers';
import * as ort from 'onnxruntime-node';
import { CATALOG_FILE, CATALOG_INDEX_FILE, CATALOG_SHARD_LISTING, decodeShardListing, fromFloat16Bits, int8Codes, isItemToken, ITEM_BIAS, ITEM_TABLE, listedShards, ONNX_VARIANT_FILES, ONNX_VARIANTS, pqCodes, pqRotation, SHARD_FAMILIES, toFloat16Bits, Vocabulary, type OnnxVariant } from '@hunch/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCheckpoint, type Checkpoint } from '../src/checkpoint.js';
import { exportModel } from '../src/export.js';
import { Rng } from '../src/lib/prng.js';
import { parameterShapes, type GPT2Config } from '../src/model.js';
import { buildOnnxModel, exportedTable, NUM_LOGITS_INPUT } from '../src/onnx/gpt2.js';
import { onnx } from '../src/onnx/graph.js';
import { dequantizePq, quantizePq } from '../src/onnx/pq.js';
import { dequantizeInt8, dequantizeQ4, quantizeInt8, quantizeQ4, transpose } from '../src/onnx/quantize.js';
import type { TensorMap } from '../src/safetensors.js';
import { DEFAULT_EVENT_TRAIN_OPTIONS, trainEvents } from '../src/train-events.js';
import { writeEventsFile } from './event-files.js';
import { catalogPath, simulated, tinyOptions } from './helpers.js';
import { fixedInput, maxAbsDiff, ortRun, toInt64, topK, withHeads } from './parity.js';

const LEVELS = ['disabled', 'basic', 'extended', 'layout', 'all'] as const;

let work: string;
let checkpoint: Checkpoint;
/** Model directories: the plain GPT-2, and with all heads (cosine scoring). */
const dirs: Record<'plain' | 'heads', string> = { plain: '', heads: '' };

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'hunch-export-quant-'));
  const eventsPath = join(work, 'events.ndjson');
  await writeEventsFile(eventsPath, simulated(200, 4));
  const { layers, embd, heads, context, lr, seed } = tinyOptions;
  ({ checkpoint } = await trainEvents(eventsPath, { ...DEFAULT_EVENT_TRAIN_OPTIONS, layers, embd, heads, context, lr, seed, epochs: 3, batchTokens: 256, workers: 1 }));
  for (const [kind, ckpt] of [['plain', checkpoint], ['heads', withHeads(checkpoint)]] as const) {
    await writeCheckpoint(join(work, `${kind}-checkpoint`), ckpt);
    dirs[kind] = join(work, `${kind}-model`);
    await exportModel({ checkpoint: join(work, `${kind}-checkpoint`), catalog: catalogPath, out: dirs[kind], quant: ONNX_VARIANTS });
  }
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/** The weights an int8 / q4 / pq graph effectively uses, as plain fp32 tensors (the table as exported). */
function dequantized(config: GPT2Config, weights: TensorMap, variant: 'int8' | 'q4' | 'pq'): TensorMap {
  const out: TensorMap = new Map(weights);
  for (const [name, { shape, data }] of weights) {
    if (!/\.(c_attn|c_proj|c_fc)\.weight$/.test(name)) continue;
    const [K, N] = shape as [number, number];
    out.set(name, {
      shape,
      data: variant !== 'q4' ? dequantizeInt8(quantizeInt8(data, K, N, 1), K, N, 1) : transpose(dequantizeQ4(quantizeQ4(transpose(data, K, N), N, K)), N, K),
    });
  }
  const { vocabSize: V, nEmbd: D } = config;
  const table = exportedTable(config, weights);
  const tables = {
    int8: () => dequantizeInt8(quantizeInt8(table, V, D, 0), V, D, 0),
    q4: () => dequantizeQ4(quantizeQ4(table, V, D)),
    pq: () => dequantizePq(quantizePq(table, V, D)),
  };
  out.set('transformer.wte.weight', { shape: [V, D], data: tables[variant]() });
  // pq keeps the item bias as half floats.
  const bias = weights.get(ITEM_BIAS);
  if (variant === 'pq' && bias) out.set(ITEM_BIAS, { shape: bias.shape, data: fromFloat16Bits(toFloat16Bits(bias.data)) });
  out.delete('hunch.cosine.scale'); // the table above is already normalised
  return out;
}

/** A random GPT-2 whose widths are not multiples of the 4-bit block (48 = 32 + 16). */
function randomModel(vocabSize = 37): { config: GPT2Config; weights: TensorMap } {
  const config: GPT2Config = { vocabSize, nPositions: 8, nEmbd: 48, nLayer: 1, nHead: 2, layerNormEpsilon: 1e-5 };
  const rng = new Rng(11);
  const weights: TensorMap = new Map();
  for (const [name, shape] of parameterShapes(config)) {
    const gain = /ln_(\d|f)\.weight$/.test(name) ? 1 : 0;
    weights.set(name, { shape, data: Float32Array.from({ length: shape.reduce((n, d) => n * d, 1) }, () => gain + rng.normal() * 0.3) });
  }
  return { config, weights };
}

async function session(bytes: Uint8Array | string, level: (typeof LEVELS)[number] = 'disabled') {
  return ort.InferenceSession.create(bytes as Uint8Array, { graphOptimizationLevel: level });
}

describe('quantized export', () => {
  it('int8, q4 and pq graphs compute the fp32 graph of their dequantized weights', async () => {
    const models = [
      { label: 'tiny trained + bias/repeat', config: checkpoint.config, weights: withHeads(checkpoint, 0).weights },
      { label: 'random, width 48', ...randomModel() },
      { label: 'random, 600 items (more than a codebook holds)', ...randomModel(600) },
    ];
    for (const { label, config, weights } of models) {
      const ids = Array.from({ length: 12 }, (_, i) => (i * 7 + 3) % config.vocabSize);
      const mask = ids.map(() => 1);
      for (const variant of ['int8', 'q4', 'pq'] as const) {
        const quantized = await session(buildOnnxModel(config, weights, variant));
        const reference = await session(buildOnnxModel(config, dequantized(config, weights, variant), 'fp32'));
        const [q, r] = [await ortRun(quantized, config, ids, mask, [2, 6]), await ortRun(reference, config, ids, mask, [2, 6])];
        const diff = Math.max(...Object.keys(r).map((name) => maxAbsDiff(q[name]!.data as Float32Array, r[name]!.data as Float32Array)));
        console.log(`${label}, ${variant}: max abs diff to the fp32 graph of its dequantized weights ${diff.toExponential(2)}`);
        expect(diff).toBeLessThan(1e-4);
        await quantized.release();
        await reference.release();
      }
    }
  });

  it('every file runs at every graph optimization level with the same outputs', async () => {
    const { config } = checkpoint;
    const { ids, mask, dims } = fixedInput(new Vocabulary(checkpoint.metadata.vocabulary));
    for (const kind of ['plain', 'heads'] as const) {
      for (const variant of ONNX_VARIANTS) {
        const path = join(dirs[kind], ONNX_VARIANT_FILES[variant]);
        let base: ort.InferenceSession.OnnxValueMapType | undefined;
        let worst = 0;
        for (const level of LEVELS) {
          const s = await session(path, level);
          const out = await ortRun(s, config, ids, mask, dims);
          await s.release();
          if (!base) base = out;
          else for (const name of Object.keys(base)) worst = Math.max(worst, maxAbsDiff(out[name]!.data as Float32Array, base[name]!.data as Float32Array));
        }
        console.log(`${kind} ${variant}: max abs diff across levels ${LEVELS.join('/')} ${worst.toExponential(2)}`);
        expect(worst).toBeLessThan(1e-5);
      }
    }
  });

  it('num_logits_to_keep k > 0 gives exactly the last k rows of logits and hunch_repeat; 0 and k >= seq give all', async () => {
    const { config } = checkpoint;
    const V = config.vocabSize;
    const { ids, mask, dims } = fixedInput(new Vocabulary(checkpoint.metadata.vocabulary));
    const [B, T] = dims;
    /** The last k of T rows of each batch row of a [B, T, width] tensor. */
    const lastRows = (data: Float32Array, width: number, k: number) =>
      Float32Array.from({ length: B * k * width }, (_, i) => data[(Math.floor(i / (k * width)) * T + T - k) * width + (i % (k * width))]!);
    for (const kind of ['plain', 'heads'] as const) {
      for (const variant of ONNX_VARIANTS) {
        for (const level of ['disabled', 'all'] as const) {
          const s = await session(join(dirs[kind], ONNX_VARIANT_FILES[variant]), level);
          expect(s.inputNames).toContain(NUM_LOGITS_INPUT);
          const all = await ortRun(s, config, ids, mask, dims, undefined, 0);
          expect(all.logits!.dims).toEqual([B, T, V]);
          if (kind === 'heads') expect(all.hunch_repeat!.dims).toEqual([B, T, 1]);
          else expect(all.hunch_repeat).toBeUndefined();
          let worst = 0;
          for (const k of [1, 3, T, T + 5]) {
            const kept = Math.min(k, T);
            const out = await ortRun(s, config, ids, mask, dims, undefined, k);
            expect(out.logits!.dims, `${kind} ${variant} ${level} k=${k}`).toEqual([B, kept, V]);
            worst = Math.max(worst, maxAbsDiff(out.logits!.data as Float32Array, lastRows(all.logits!.data as Float32Array, V, kept)));
            if (kind === 'heads') {
              expect(out.hunch_repeat!.dims).toEqual([B, kept, 1]);
              worst = Math.max(worst, maxAbsDiff(out.hunch_repeat!.data as Float32Array, lastRows(all.hunch_repeat!.data as Float32Array, 1, kept)));
            }
            // The cache is every position's, whatever k.
            for (const name of s.outputNames.filter((n) => n.startsWith('present.'))) {
              expect(out[name]!.data as Float32Array).toEqual(all[name]!.data as Float32Array);
            }
          }
          await s.release();
          console.log(`${kind} ${variant} (${level}): num_logits_to_keep 1/3/${T}/${T + 5} vs last rows of 0: max abs diff ${worst.toExponential(2)}`);
          expect(worst).toBeLessThanOrEqual(1e-6);
        }
      }
    }
  });

  it('ranks the top 20 items close to fp32', async () => {
    const { config } = checkpoint;
    const V = config.vocabSize;
    const vocabulary = new Vocabulary(checkpoint.metadata.vocabulary);
    const items = vocabulary.tokens.flatMap((token, id) => (isItemToken(token) ? [id] : []));
    const { ids, mask, dims } = fixedInput(vocabulary);
    for (const kind of ['plain', 'heads'] as const) {
      const logits = {} as Record<OnnxVariant, Float32Array>;
      for (const variant of ONNX_VARIANTS) {
        const s = await session(join(dirs[kind], ONNX_VARIANT_FILES[variant]), 'all');
        logits[variant] = (await ortRun(s, config, ids, mask, dims)).logits!.data as Float32Array;
        await s.release();
      }
      for (const variant of ['int8', 'q4', 'pq'] as const) {
        let overlap = 0;
        let positions = 0;
        for (let p = 0; p < mask.length; p++) {
          if (!mask[p]) continue;
          const row = (v: OnnxVariant) => logits[v].subarray(p * V, (p + 1) * V);
          const reference = new Set(topK(row('fp32'), items, 20));
          overlap += topK(row(variant), items, 20).filter((id) => reference.has(id)).length / 20;
          positions++;
        }
        const mean = overlap / positions;
        console.log(`${kind} ${variant}: mean top-20 overlap with fp32 ${mean.toFixed(3)} over ${positions} positions, max abs logit diff ${maxAbsDiff(logits[variant], logits.fp32).toFixed(3)}`);
        expect(mean).toBeGreaterThan(variant === 'q4' ? 0.75 : 0.9);
      }
    }
  });

  it('--quant pq alone with --pq-subspaces and a sharded catalog: the pq file of that many codes per item, every file listed with its hash; a rotation only with --pq-rotation-rounds', async () => {
    const out = join(work, 'pq-only');
    const manifest = await exportModel({ checkpoint: join(work, 'plain-checkpoint'), catalog: catalogPath, out, quant: ['pq'], pqSubspaces: 8, catalogLayout: { threshold: 0, shardBytes: 2048 } });
    expect(manifest.onnx.variants).toEqual({ pq: ONNX_VARIANT_FILES.pq });
    const paths = Object.keys(manifest.files);
    expect(paths).not.toContain(CATALOG_FILE);
    expect(paths).toContain(CATALOG_INDEX_FILE);
    // The shards are listed by their listing (core's shard-listing.ts), itself listed with its hash.
    expect(paths.filter((path) => path.startsWith('catalog/shard-'))).toEqual([]);
    const listing = SHARD_FAMILIES.find((family) => family.listing === CATALOG_SHARD_LISTING)!;
    const shards = listedShards(listing, decodeShardListing(await readFile(join(out, CATALOG_SHARD_LISTING)), CATALOG_SHARD_LISTING));
    expect(shards.length).toBeGreaterThan(1);
    const entries = [...shards, ...[CATALOG_SHARD_LISTING, CATALOG_INDEX_FILE, ONNX_VARIANT_FILES.pq].map((path): [string, unknown] => [path, manifest.files[path]])];
    for (const [path, entry] of entries) {
      const bytes = await readFile(join(out, path));
      expect(entry, path).toEqual({ sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length });
    }
    const model = onnx.ModelProto.decode(await readFile(join(out, ONNX_VARIANT_FILES.pq)));
    const codes = model.graph!.initializer!.find((tensor) => tensor.name === pqCodes(ITEM_TABLE))!;
    expect(codes.dims!.map(Number)).toEqual([checkpoint.config.vocabSize, 8]);
    expect(model.graph!.initializer!.some((tensor) => tensor.name === int8Codes(ITEM_TABLE))).toBe(false);
    // No rotation by default; --pq-rotation-rounds writes OPQ's [n_embd, n_embd] rotation.
    expect(model.graph!.initializer!.some((tensor) => tensor.name === pqRotation(ITEM_TABLE))).toBe(false);
    await exportModel({ checkpoint: join(work, 'plain-checkpoint'), catalog: catalogPath, out: join(work, 'pq-rotated'), quant: ['pq'], pqSubspaces: 8, pqRotationRounds: 2 });
    const rotated = onnx.ModelProto.decode(await readFile(join(work, 'pq-rotated', ONNX_VARIANT_FILES.pq)));
    const rotation = rotated.graph!.initializer!.find((tensor) => tensor.name === pqRotation(ITEM_TABLE))!;
    expect(rotation.dims!.map(Number)).toEqual([checkpoint.config.nEmbd, checkpoint.config.nEmbd]);
    await expect(exportModel({ checkpoint: join(work, 'plain-checkpoint'), catalog: catalogPath, out: join(work, 'pq-bad'), quant: ['pq'], pqSubspaces: 5 })).rejects.toThrow(
      `pq: 5 sub-spaces do not divide a width of ${checkpoint.config.nEmbd}`,
    );
  });

  it('loads in transformers.js as dtype fp32, q8 and q4, with the outputs of onnxruntime-node', async () => {
    const { config } = checkpoint;
    const { ids, mask, dims } = fixedInput(new Vocabulary(checkpoint.metadata.vocabulary));
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = `${dirname(dirs.heads)}/`;
    for (const [dtype, variant] of [['fp32', 'fp32'], ['q8', 'int8'], ['q4', 'q4']] as const) {
      const s = await session(join(dirs.heads, ONNX_VARIANT_FILES[variant]), 'all');
      const expected = await ortRun(s, config, ids, mask, dims);
      await s.release();
      const hf = await AutoModelForCausalLM.from_pretrained(basename(dirs.heads), { local_files_only: true, dtype, device: 'cpu' });
      const inputs = { input_ids: new Tensor('int64', toInt64(ids), dims), attention_mask: new Tensor('int64', toInt64(mask), dims) };
      const out = (await hf(inputs)) as Record<string, Tensor>;
      // What the worker runs for a recommendation: the last position only.
      const last = (await hf({ ...inputs, num_logits_to_keep: new Tensor('int64', BigInt64Array.of(1n), []) })) as Record<string, Tensor>;
      await hf.dispose();
      const V = config.vocabSize;
      const [B, T] = dims;
      expect(out.logits!.dims).toEqual([B, T, V]);
      expect(last.logits!.dims).toEqual([B, 1, V]);
      expect(last.hunch_repeat!.dims).toEqual([B, 1, 1]);
      for (let b = 0; b < B; b++) {
        const row = (out.logits!.data as Float32Array).subarray((b * T + T - 1) * V, (b * T + T) * V);
        expect(maxAbsDiff((last.logits!.data as Float32Array).subarray(b * V, (b + 1) * V), row), `${dtype} last logits`).toBeLessThanOrEqual(1e-6);
        expect(Math.abs((last.hunch_repeat!.data as Float32Array)[b]! - (out.hunch_repeat!.data as Float32Array)[b * T + T - 1]!)).toBeLessThanOrEqual(1e-6);
      }
      for (const name of ['logits', 'hunch_repeat']) expect(maxAbsDiff(out[name]!.data as Float32Array, expected[name]!.data as Float32Array), `${dtype} ${name}`).toBeLessThan(1e-5);
    }
  });
});
