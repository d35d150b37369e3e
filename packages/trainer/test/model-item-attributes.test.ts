/**
 * Attribute-composed item vectors (next-item/heads.ts, issue 21 part 2): the loss's
 * gradients, the scorer's use of the composed table as input and output, the plain model
 * unchanged without attributes, and an item training never saw ranked by its attributes.
 */
import { ITEM_BIAS, ITEM_TABLE } from '@hunch/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useWasmBackend } from '../src/backend.js';
import { Rng } from '../src/lib/prng.js';
import type { GPT2Config } from '../src/model.js';
import { ATTR_BIAS, ATTR_LEARNED, ATTR_TABLE, composedItemBias, composedItemTable, initNextItem, nextItemShapes, setItemAttributes, type HeadOptions } from '../src/next-item/heads.js';
import { shardGradients, type ShardInput } from '../src/next-item/loss.js';
import { ParamLayout } from '../src/next-item/param-layout.js';
import { NextItemScorer } from '../src/next-item/scorer.js';
import { trainSequences, type SequenceTrainOptions } from '../src/train-sequences.js';
import { expectFiniteDifferences } from './helpers.js';

beforeAll(() => useWasmBackend());

const V = 14;
const config: GPT2Config = { vocabSize: V, nPositions: 8, nEmbd: 8, nLayer: 1, nHead: 2, layerNormEpsilon: 1e-5 };
const isItem = Uint8Array.from({ length: V }, (_, i) => (i >= 3 ? 1 : 0));
// Tokens 3..13: attributes by token (token 13 has none), 4 attribute ids; token 9 is unseen (learned 0).
const byToken = [[], [], [], [0], [0, 1], [1], [1, 2], [2], [2, 3], [3, 0], [0, 2, 3], [1], [3], []];
const learned = Uint8Array.from({ length: V }, (_, i) => (i === 9 ? 0 : 1));

function randomModel(cosineScale: number): { heads: HeadOptions; layout: ParamLayout; params: Float32Array } {
  const heads: HeadOptions = { itemBias: true, repeat: true, ...(cosineScale ? { cosineScale } : {}), attributes: { count: 4, perItem: 3 } };
  const layout = new ParamLayout(nextItemShapes(config, heads));
  const rng = new Rng(7);
  const params = new Float32Array(layout.size);
  for (const { name, offset, size } of layout.entries) {
    const gain = /ln_(\d|f)\.weight$/.test(name) ? 1 : 0;
    for (let i = offset; i < offset + size; i++) params[i] = gain + rng.normal() * 0.3;
  }
  if (cosineScale) layout.view(params, 'hunch.cosine.scale')[0] = cosineScale;
  setItemAttributes(heads, { count: 4, byToken, learned }, params, layout);
  return { heads, layout, params };
}

describe('attribute-composed item vectors', () => {
  it.each([
    ['dot-product', 0],
    ['cosine', 3],
  ])('loss gradients match finite differences, the attribute table included; an unseen item gets no embedding gradient (%s)', (_, cosineScale) => {
    const { layout, params } = randomModel(cosineScale);
    const negatives = Int32Array.from([3, 9, 10, 13, 6]);
    const input: ShardInput = {
      rows: [Int32Array.from([1, 4, 9, 6, 4, 10]), Int32Array.from([1, 12, 9, 5])],
      rowSeeds: [1, 2],
      negatives,
      negativeLogKQ: new Float32Array(negatives.length).fill(Math.log(5) - Math.log(11)),
      normalizer: 8,
      dropout: 0,
    };
    const out = shardGradients(config, layout, params, isItem, input);
    const lossAt = () => shardGradients(config, layout, params, isItem, input).lossSum / input.normalizer;
    const wte = new Float32Array(V * 8);
    out.rows.forEach((token, u) => wte.set(out.wteGrad.subarray(u * 8, u * 8 + 8), token * 8));
    const analytic = new Map(out.dense);
    analytic.set(ITEM_TABLE, wte);
    expect(analytic.has(ATTR_LEARNED)).toBe(false); // data, not trained
    expect(Math.max(...wte.subarray(9 * 8, 10 * 8).map(Math.abs))).toBe(0);
    expect(Math.max(...analytic.get(ATTR_TABLE)!.map(Math.abs))).toBeGreaterThan(0);
    const bias = new Float32Array(V);
    out.rows.forEach((token, u) => (bias[token] = out.biasGrad![u]!));
    analytic.set(ITEM_BIAS, bias);
    expect(Math.abs(bias[9]!)).toBe(0); // the unseen item's own bias is not used: its attributes' biases are
    expect(Math.max(...analytic.get(ATTR_BIAS)!.map(Math.abs))).toBeGreaterThan(0);
    const checked = [ATTR_TABLE, ATTR_BIAS, ITEM_TABLE, ITEM_BIAS, 'transformer.h.0.attn.c_attn.weight'];
    const compared = expectFiniteDifferences(params, (name) => layout.view(params, name), analytic, checked, lossAt);
    expect(compared).toBe(15);
  });

  it('embedding drop: a dropped item is scored by its attributes alone this step, the same in every shard', () => {
    const { layout, params } = randomModel(3);
    const negatives = Int32Array.from([3, 9, 10, 13, 6]);
    const rows = [Int32Array.from([1, 4, 9, 6, 4, 10]), Int32Array.from([1, 12, 9, 5])];
    const input = (picked: number[], rate: number): ShardInput => ({
      rows: picked.map((i) => rows[i]!),
      rowSeeds: picked.map((i) => i + 1),
      negatives,
      negativeLogKQ: new Float32Array(negatives.length),
      normalizer: 8,
      dropout: 0,
      embeddingDrop: { rate, seed: 42 },
    });
    const gradOf = (out: ReturnType<typeof shardGradients>, token: number) => {
      const u = Array.from(out.rows).indexOf(token);
      return u < 0 ? 0 : Math.max(...out.wteGrad.subarray(u * 8, u * 8 + 8).map(Math.abs));
    };
    const all = shardGradients(config, layout, params, isItem, input([0, 1], 1));
    for (const token of all.rows) expect(gradOf(all, token) > 0, `token ${token}`).toBe(!isItem[token]); // only [BOS] keeps an embedding
    expect(Math.max(...all.dense.get(ATTR_TABLE)!.map(Math.abs))).toBeGreaterThan(0);
    // Half the items: which ones depends on the step's seed and the token, not on the shard.
    const whole = shardGradients(config, layout, params, isItem, input([0, 1], 0.5));
    const dropped = [...whole.rows].filter((t) => isItem[t] && t !== 9 && gradOf(whole, t) === 0);
    expect(dropped.length).toBeGreaterThan(0);
    expect(dropped.length).toBeLessThan([...whole.rows].filter((t) => isItem[t] && t !== 9).length);
    const first = shardGradients(config, layout, params, isItem, input([0], 0.5));
    for (const t of dropped) expect(gradOf(first, t)).toBe(0);
    const none = shardGradients(config, layout, params, isItem, input([0, 1], 0));
    expect(none.lossSum).not.toBeCloseTo(whole.lossSum, 3);
  });

  it('the scorer uses the composed table for input and output: the same scores as a plain model holding it as wte', () => {
    const { layout, params } = randomModel(3);
    const weights = layout.toTensorMap(params);
    const composed = composedItemTable(weights);
    // Token 9 (unseen): the mean of its attributes' rows alone.
    const table = layout.view(params, ATTR_TABLE);
    for (let d = 0; d < 8; d++) expect(composed[9 * 8 + d]).toBeCloseTo((table[3 * 8 + d]! + table[0 * 8 + d]!) / 2, 6);
    // Token 13 (no attributes): its learned row.
    expect(Array.from(composed.subarray(13 * 8, 14 * 8))).toEqual(Array.from(layout.view(params, ITEM_TABLE).subarray(13 * 8, 14 * 8)));
    const plainHeads: HeadOptions = { itemBias: true, repeat: true, cosineScale: 3 };
    const plain = new ParamLayout(nextItemShapes(config, plainHeads)).toTensorMap(new Float32Array(new ParamLayout(nextItemShapes(config, plainHeads)).size));
    const composedBias = composedItemBias(weights)!;
    // Token 9's bias: its attributes' biases (3 and 0), halved; token 13's: its own.
    const attrBias = layout.view(params, ATTR_BIAS);
    expect(composedBias[9]).toBeCloseTo((attrBias[3]! + attrBias[0]!) / 2, 6);
    expect(composedBias[13]).toBe(layout.view(params, ITEM_BIAS)[13]);
    for (const [name, t] of plain) t.data.set(name === ITEM_TABLE ? composed : name === ITEM_BIAS ? composedBias : weights.get(name)!.data);
    const a = new NextItemScorer(config, weights, isItem);
    const b = new NextItemScorer(config, plain, isItem);
    const prefixes = [[1, 9, 4], [1, 12]];
    const sa = a.scorePrefixes(prefixes);
    const sb = b.scorePrefixes(prefixes);
    for (let i = 0; i < sa.length; i++) expect(sa[i]).toBeCloseTo(sb[i]!, 4);
    a.dispose();
    b.dispose();
  });

  it('without attributes the model has exactly the plain tensors', () => {
    const heads: HeadOptions = { itemBias: true, repeat: true, cosineScale: 3 };
    expect(nextItemShapes(config, heads).map(([name]) => name).filter((name) => name.startsWith('hunch.attr'))).toEqual([]);
    const layout = new ParamLayout(nextItemShapes(config, heads));
    const params = new Float32Array(layout.size);
    initNextItem(config, heads, 1, params, layout);
    expect(composedItemTable(layout.toTensorMap(params))).toEqual(layout.view(params, ITEM_TABLE));
  });

  it('an item training never saw is ranked by its attributes: after a history of one attribute group, its unseen item beats the other group', async () => {
    // Items 3..12 in two groups by attribute (0: 3..7, 1: 8..12); users stay in one group.
    // Items 7 and 12 never occur in training.
    const groupOf = (token: number) => (token < 8 ? 0 : 1);
    const rng = new Rng(11);
    const sequences: Int32Array[] = [];
    for (let u = 0; u < 400; u++) {
      const g = u % 2;
      const pool = g === 0 ? [3, 4, 5, 6] : [8, 9, 10, 11];
      sequences.push(Int32Array.from([1, ...Array.from({ length: 6 }, () => pool[Math.floor(rng.next() * pool.length)]!)]));
    }
    const vocabSize = 13;
    const attrs = { count: 2, byToken: Array.from({ length: vocabSize }, (_, t) => (t >= 3 ? [groupOf(t)] : [])) };
    const options: SequenceTrainOptions = {
      layers: 1, embd: 16, heads: 2, context: 8, epochs: 6, batchTokens: 256, lr: 1e-2, weightDecay: 0, dropout: 0,
      seed: 1, workers: 1, negatives: 0, itemBias: false, repeat: false, cosineScale: 8, itemAttributes: attrs,
    };
    const trained = await trainSequences(sequences, { vocabSize }, options);
    expect(Array.from(trained.weights.get(ATTR_LEARNED)!.data)).toEqual(Array.from({ length: vocabSize }, (_, t) => (t === 7 || t === 12 ? 0 : 1)));
    const scorer = new NextItemScorer(trained.config, trained.weights, trained.isItem);
    const [a, b] = [scorer.scorePrefixes([[1, 3, 4, 5]]), scorer.scorePrefixes([[1, 9, 10, 11]])];
    // The unseen item of the history's group outscores every item of the other group.
    for (const other of [8, 9, 10, 11, 12]) expect(a[7]!).toBeGreaterThan(a[other]!);
    for (const other of [3, 4, 5, 6, 7]) expect(b[12]!).toBeGreaterThan(b[other]!);
    scorer.dispose();
    // Without attributes: no attribute tensors at all.
    const { itemAttributes: _, ...plain } = options;
    const plainModel = await trainSequences(sequences, { vocabSize }, { ...plain, epochs: 1 });
    expect([...plainModel.weights.keys()].filter((name) => name.startsWith('hunch.attr'))).toEqual([]);
  }, 60_000);
});
