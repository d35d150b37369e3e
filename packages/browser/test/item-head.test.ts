/**
 * The worker's own item head (worker/item-head): the SIMD kernel against plain float math, and
 * the split of real int8 exports (the trainer's graph with every head, and the shipped demo
 * model) run in onnxruntime against the whole graph: same logits to ~1e-4, same top items.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { ItemScorer } from '../src/worker/item-head/scorer.js';
import { splitItemHead, type Int8ItemHead } from '../src/worker/item-head/split.js';
import { buildOnnxModel } from '../../trainer/src/onnx-export.js';
import { Rng } from '../../trainer/src/lib/prng.js';
import { parameterShapes, type GPT2Config } from '../../trainer/src/model.js';
import { COSINE_SCALE, ITEM_BIAS, REPEAT_BIAS, REPEAT_WEIGHT } from '../../trainer/src/next-item.js';
import type { TensorMap } from '../../trainer/src/safetensors.js';

const demoModel = (file: string) => readFileSync(fileURLToPath(new URL(`../../../models/demo/${file}`, import.meta.url)));

function randomHead(rows: number, width: number, seed: number, withBias: boolean): Int8ItemHead {
  const rng = new Rng(seed);
  return {
    query: 'q',
    rows,
    width,
    table: Int8Array.from({ length: rows * width }, () => Math.round(rng.next() * 254) - 127),
    scales: Float32Array.from({ length: rows }, () => 0.001 + rng.next() * 0.01),
    bias: withBias ? Float32Array.from({ length: rows }, () => rng.normal()) : undefined,
  };
}

/** The head's logits in float64: Σ_d table · scale · query + bias. */
function reference(head: Int8ItemHead, query: Float32Array): Float64Array {
  return Float64Array.from({ length: head.rows }, (_, r) => {
    let dot = 0;
    for (let d = 0; d < head.width; d++) dot += head.table[r * head.width + d]! * query[d]!;
    return dot * head.scales[r]! + (head.bias?.[r] ?? 0);
  });
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
};

const topIds = (logits: ArrayLike<number>, k: number) =>
  Array.from(logits, (value, id) => ({ value, id }))
    .sort((a, b) => b.value - a.value)
    .slice(0, k)
    .map(({ id }) => id);

describe('ItemScorer (the int8 x int16 SIMD kernel)', () => {
  // 64: whole chunks; 40: rows padded to 48; 700: past the width where int16 codes could overflow an int32 sum.
  for (const [rows, width, withBias] of [[1000, 64, true], [333, 40, false], [50, 700, true]] as const) {
    it(`matches float math for ${rows} rows of width ${width}${withBias ? ' with a bias' : ''}`, () => {
      const head = randomHead(rows, width, rows + width, withBias);
      const scorer = ItemScorer.create(head)!;
      const rng = new Rng(3);
      for (const magnitude of [1, 1e-3, 40]) {
        const query = Float32Array.from({ length: width }, () => rng.normal() * magnitude);
        const logits = new Float32Array(rows);
        scorer.score(query, logits);
        const expected = reference(head, query);
        const largest = Math.max(...expected.map(Math.abs));
        expect(maxAbsDiff(logits, expected) / largest).toBeLessThan(1e-4);
        expect(topIds(logits, 10)).toEqual(topIds(expected, 10));
      }
    });
  }

  it('gives the bias for a zero query, NaN for a non-finite one, and refuses wrong sizes and an empty table', () => {
    const head = randomHead(20, 16, 5, true);
    const scorer = ItemScorer.create(head)!;
    const logits = new Float32Array(20);
    scorer.score(new Float32Array(16), logits);
    expect([...logits]).toEqual([...head.bias!]);
    scorer.score(new Float32Array(16).fill(Number.POSITIVE_INFINITY), logits);
    expect(logits.every(Number.isNaN)).toBe(true);
    expect(() => scorer.score(new Float32Array(15), logits)).toThrow(/a query of 15 for 16/);
    expect(() => scorer.score(new Float32Array(16), new Float32Array(19))).toThrow(/output of 19 for 20 rows/);
    // An empty table is refused (the kernel's loops would never end).
    expect(() => ItemScorer.create({ ...head, rows: 0, table: new Int8Array(0), scales: new Float32Array(0), bias: undefined })).toThrow(/a table of 0 x 16/);
  });
});

/** A random GPT-2 with every Hunch head (item bias, cosine scoring, repeat bonus), as the trainer exports it. */
function exportedWithHeads(variant: 'fp32' | 'int8' | 'q4'): { config: GPT2Config; bytes: Uint8Array } {
  const config: GPT2Config = { vocabSize: 300, nPositions: 16, nEmbd: 32, nLayer: 2, nHead: 2, layerNormEpsilon: 1e-5 };
  const rng = new Rng(17);
  const weights: TensorMap = new Map();
  const random = (shape: number[], gain = 0, std = 0.3) => ({ shape, data: Float32Array.from({ length: shape.reduce((n, d) => n * d, 1) }, () => gain + rng.normal() * std) });
  for (const [name, shape] of parameterShapes(config)) weights.set(name, random(shape, /ln_(\d|f)\.weight$/.test(name) ? 1 : 0));
  weights.set(ITEM_BIAS, random([config.vocabSize]));
  weights.set(COSINE_SCALE, { shape: [1], data: Float32Array.of(12) });
  weights.set(REPEAT_WEIGHT, random([config.nEmbd]));
  weights.set(REPEAT_BIAS, random([1]));
  return { config, bytes: buildOnnxModel(config, weights, variant) };
}

interface Layout {
  layers: number;
  heads: number;
  headDim: number;
}

/** Runs `tokens` from an empty cache, then one more token on the cache: the last position's outputs of the second call. */
async function step(session: ort.InferenceSession, layout: Layout, tokens: number[], next: number) {
  const int64 = (values: number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(values, BigInt), dims);
  const feeds = (ids: number[], total: number, past: Record<string, ort.Tensor>) => ({
    input_ids: int64(ids, [1, ids.length]),
    attention_mask: int64(new Array<number>(total).fill(1), [1, total]),
    num_logits_to_keep: int64([1], []),
    ...past,
  });
  const empty: Record<string, ort.Tensor> = {};
  for (let i = 0; i < layout.layers; i++) {
    for (const kind of ['key', 'value']) empty[`past_key_values.${i}.${kind}`] = new ort.Tensor('float32', new Float32Array(0), [1, layout.heads, 0, layout.headDim]);
  }
  const first = await session.run(feeds(tokens, tokens.length, empty));
  const past = Object.fromEntries(Object.entries(first).filter(([name]) => name.startsWith('present.')).map(([name, t]) => [name.replace('present.', 'past_key_values.'), t]));
  return session.run(feeds([next], tokens.length + 1, past));
}

async function compareSplit(bytes: Uint8Array, layout: Layout, tokens: number[], next: number) {
  const split = splitItemHead(bytes);
  expect(split).toBeDefined();
  const { body, head } = split!;
  const whole = await step(await ort.InferenceSession.create(bytes), layout, tokens, next);
  const cut = await step(await ort.InferenceSession.create(body), layout, tokens, next);
  expect(Object.keys(cut)).not.toContain('logits');
  const query = cut[head.query]!;
  expect(query.dims).toEqual([1, 1, head.width]);
  const logits = new Float32Array(head.rows);
  ItemScorer.create(head)!.score(query.data as Float32Array, logits);
  const expected = whole.logits!.data as Float32Array;
  expect(logits.length).toBe(expected.length);
  expect(maxAbsDiff(logits, expected)).toBeLessThan(1e-3);
  expect(topIds(logits, 20)).toEqual(topIds(expected, 20));
  // Everything else the body returns is the whole graph's, to the bit.
  for (const name of Object.keys(whole).filter((name) => name !== 'logits')) expect(cut[name]!.data).toEqual(whole[name]!.data);
  return { head, whole, cut };
}

describe('splitItemHead', () => {
  it("cuts the trainer's int8 graph (item bias, cosine scoring, repeat head): the body and the kernel give its logits", async () => {
    const { config, bytes } = exportedWithHeads('int8');
    const { head, cut } = await compareSplit(bytes, { layers: 2, heads: 2, headDim: 16 }, [1, 40, 7, 299, 150], 42);
    expect(head.bias).toBeDefined();
    expect([head.rows, head.width]).toEqual([config.vocabSize, config.nEmbd]);
    expect(Object.keys(cut)).toContain('hunch_repeat');
    // The body is the graph minus its head: smaller by the bias, never by the table (the embedding reads it).
    expect(splitItemHead(bytes)!.body.length).toBeLessThan(bytes.length);
  });

  it('cuts the shipped demo model (no bias, no cosine: an Identity head)', async () => {
    const config = JSON.parse(demoModel('config.json').toString()) as { n_layer: number; n_head: number; n_embd: number; vocab_size: number };
    const { head } = await compareSplit(demoModel('onnx/model_quantized.onnx'), { layers: config.n_layer, heads: config.n_head, headDim: config.n_embd / config.n_head }, [1, 20, 30, 40], 50);
    expect(head.bias).toBeUndefined();
    expect(head.rows).toBe(config.vocab_size);
  });

  it('leaves fp32 and 4-bit graphs alone, and names malformed bytes', () => {
    expect(splitItemHead(exportedWithHeads('fp32').bytes)).toBeUndefined();
    expect(splitItemHead(exportedWithHeads('q4').bytes)).toBeUndefined();
    expect(splitItemHead(demoModel('onnx/model.onnx'))).toBeUndefined();
    expect(() => splitItemHead(Uint8Array.from([0x3a, 0x40, 1, 2]))).toThrow(/truncated or malformed protobuf/);
  });
});
