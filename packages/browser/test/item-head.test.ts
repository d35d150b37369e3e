/**
 * The worker's own item head (worker/item-head): the SIMD kernel against plain float math, and
 * the split of real int8 exports (the trainer's graph with every head, and the shipped demo
 * model) run in onnxruntime against the whole graph: same logits to ~1e-4, same top items.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { ItemScorer } from '../src/worker/item-head/scorer.js';
import { splitItemHead, type Int8ItemHead } from '../src/worker/item-head/split.js';
import { Rng } from '../../trainer/src/lib/prng.js';
import { demoModel, exportedWithHeads, maxAbsDiff, step, topIds, type Layout } from './lib/exported-gpt2.js';


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
