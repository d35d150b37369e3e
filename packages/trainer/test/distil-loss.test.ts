/**
 * Distillation's term in the next-item loss (next-item/loss.ts `softTargets`): its gradients
 * against finite differences, and what it is for: training with it moves the model's softmax
 * toward the teacher's soft targets.
 */
import { ITEM_BIAS, ITEM_TABLE } from '@hunch/core';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useWasmBackend } from '../src/backend.js';
import { Rng } from '../src/lib/prng.js';
import type { GPT2Config } from '../src/model.js';
import { nextItemShapes } from '../src/next-item/heads.js';
import { shardGradients, type ShardInput, type ShardOutput } from '../src/next-item/loss.js';
import { AliasSampler } from '../src/next-item/negatives.js';
import { ParamLayout } from '../src/next-item/param-layout.js';
import { NextItemScorer } from '../src/next-item/scorer.js';
import type { SoftTargetTable } from '../src/next-item/soft-target-block.js';
import { expectHeadGradients } from './helpers.js';

beforeAll(() => useWasmBackend());

const V = 14;
const config: GPT2Config = { vocabSize: V, nPositions: 8, nEmbd: 8, nLayer: 2, nHead: 2, layerNormEpsilon: 1e-5 };
const isItem = Uint8Array.from({ length: V }, (_, i) => (i >= 3 ? 1 : 0));
// Repeats (5, 7) and a shorter, padded second row.
const rows = [Int32Array.from([1, 5, 7, 5, 9, 7, 4]), Int32Array.from([1, 8, 3, 8])];

/**
 * k = 3 items a position; the two rows' 6 and 3 positions start at table rows 2 and 10 (rows
 * of other sequences around them). Soft items in the prefix (5, 7, 8: the repeat bonus), items
 * the rows never hold (11, 12, 13), rows with fewer than k items and a position with none.
 */
const table: SoftTargetTable = (() => {
  const k = 3;
  const ids = new Int32Array(14 * k);
  const weights = new Float32Array(14 * k);
  const set = (row: number, items: number[], ps: number[]) => items.forEach((item, j) => ((ids[row * k + j] = item), (weights[row * k + j] = ps[j]!)));
  set(0, [3, 4, 6], [0.5, 0.3, 0.2]);
  set(2, [11, 5, 12], [0.6, 0.3, 0.1]);
  set(3, [7, 11], [0.7, 0.3]);
  set(4, [5, 13, 7], [0.4, 0.4, 0.2]);
  // Table row 5 (row 0, position 3): no targets.
  set(6, [12], [1]);
  set(7, [4, 11, 9], [0.5, 0.25, 0.25]);
  set(10, [8, 13], [0.8, 0.2]);
  set(11, [13, 6, 10], [0.5, 0.3, 0.2]);
  set(12, [8, 12, 3], [0.6, 0.2, 0.2]);
  return { k, ids, weights };
})();

function model(cosineScale: number, seed: number): { layout: ParamLayout; params: Float32Array } {
  const layout = new ParamLayout(nextItemShapes(config, { itemBias: true, repeat: true, cosineScale }));
  const rng = new Rng(seed);
  const params = new Float32Array(layout.size);
  for (const { name, offset, size } of layout.entries) {
    const gain = /ln_(\d|f)\.weight$/.test(name) ? 1 : 0;
    for (let i = offset; i < offset + size; i++) params[i] = gain + rng.normal() * 0.3;
  }
  if (cosineScale) layout.view(params, 'hunch.cosine.scale')[0] = cosineScale;
  return { layout, params };
}

const soft = (weight: number) => ({ weight, table, starts: Int32Array.from([2, 10]) });

describe('distillation term of the next-item loss', () => {
  it.each([
    ['dot-product', 0],
    ['cosine', 3],
  ])('gradients match central finite differences (sampled negatives, item bias, repeat bonus; %s)', (_, cosineScale) => {
    const { layout, params } = model(cosineScale, 5);
    const sampler = new AliasSampler(Array.from({ length: V }, (_, i) => (isItem[i] ? (i + 1) ** 0.75 : 0)));
    const K = 6;
    const negatives = sampler.sample(new Rng(9), K);
    const base: ShardInput = { rows, rowSeeds: [1, 2], negatives, negativeLogKQ: Float32Array.from(negatives, (n) => Math.log(K) + sampler.logQ[n]!), normalizer: 9, dropout: 0 };
    const input: ShardInput = { ...base, softTargets: soft(0.7) };
    const out = shardGradients(config, layout, params, isItem, input);
    expectHeadGradients(out, layout, params, () => shardGradients(config, layout, params, isItem, input).lossSum / input.normalizer);
    // The term is there: the loss differs from the plain loss's, and items only the teacher
    // names (neither in the rows nor among the negatives) get gradient rows.
    const plain = shardGradients(config, layout, params, isItem, base);
    expect(out.lossSum).not.toBeCloseTo(plain.lossSum, 3);
    const teacherOnly = [10, 11, 12, 13].filter((item) => !plain.rows.includes(item));
    expect(teacherOnly.length).toBeGreaterThan(0);
    for (const item of teacherOnly) expect(out.rows).toContain(item);
    expect(out.targets).toBe(plain.targets);
  });

  it('training with it moves the model toward the soft targets: their cross-entropy falls far below what the plain loss reaches', () => {
    const items = Int32Array.from([...isItem.keys()].filter((i) => isItem[i]));
    const base: ShardInput = { rows, rowSeeds: [1, 2], negatives: items, negativeLogKQ: new Float32Array(items.length), normalizer: 9, dropout: 0 };
    const alpha = 2;
    // The cross-entropy of the model's full softmax (the evaluation's scorer) against the soft targets, over every position.
    const crossEntropy = (layout: ParamLayout, params: Float32Array) => {
      const scorer = new NextItemScorer(config, layout.toTensorMap(params), isItem);
      try {
        const positions = rows.map((r) => Array.from({ length: r.length - 1 }, (_, t) => t));
        const scores = scorer.scoreAt(rows.map((r) => Array.from(r)), positions);
        const logProbs = tf.logSoftmax(scores).arraySync() as number[][];
        scores.dispose();
        const starts = soft(alpha).starts;
        let sum = 0;
        let m = 0;
        positions.forEach((ts, b) => {
          for (const t of ts) {
            const at = (starts[b]! + t) * table.k;
            for (let j = 0; j < table.k; j++) sum -= table.weights[at + j]! * logProbs[m]![table.ids[at + j]!]!;
            m++;
          }
        });
        return sum;
      } finally {
        scorer.dispose();
      }
    };
    const train = (input: ShardInput) => {
      const { layout, params } = model(0, 7);
      const before = crossEntropy(layout, params);
      for (let step = 0; step < 60; step++) descend(layout, params, shardGradients(config, layout, params, isItem, input), 0.05 * input.normalizer);
      return { before, after: crossEntropy(layout, params) };
    };
    const withTerm = train({ ...base, softTargets: soft(alpha) });
    const without = train(base);
    expect(withTerm.before).toBeCloseTo(without.before, 4);
    expect(withTerm.after).toBeLessThan(0.8 * without.after);
    expect(withTerm.after).toBeLessThan(0.8 * withTerm.before);
  });
});

/** Plain gradient descent on the loss / normalizer, sparse rows included. */
function descend(layout: ParamLayout, params: Float32Array, out: ShardOutput, lr: number): void {
  for (const [name, g] of out.dense) {
    const view = layout.view(params, name);
    for (let i = 0; i < g.length; i++) view[i] = view[i]! - lr * g[i]!;
  }
  const D = config.nEmbd;
  const wte = layout.view(params, ITEM_TABLE);
  const bias = layout.view(params, ITEM_BIAS);
  out.rows.forEach((token, u) => {
    for (let d = 0; d < D; d++) wte[token * D + d] = wte[token * D + d]! - lr * out.wteGrad[u * D + d]!;
    bias[token] = bias[token]! - lr * out.biasGrad![u]!;
  });
}
