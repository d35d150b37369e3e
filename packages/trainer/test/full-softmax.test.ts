/**
 * The full softmax of the next-item loss (next-item/loss.ts with every item a negative) with
 * the heads the benchmark recipes train (item bias, repeat bonus, cosine scale): its value is
 * the cross-entropy over every item of the scores the evaluation ranks by (next-item/scorer.ts,
 * computed independently), and its gradients match finite differences. And the recipe picks
 * it by the catalog's size.
 */
import { COSINE_SCALE } from '@hunch/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useWasmBackend } from '../src/backend.js';
import { DIGINETICA_RECIPE, recipeFor } from '../src/benchmark.js';
import { Rng } from '../src/lib/prng.js';
import type { GPT2Config } from '../src/model.js';
import { nextItemShapes } from '../src/next-item/heads.js';
import { shardGradients, type ShardInput } from '../src/next-item/loss.js';
import { ParamLayout } from '../src/next-item/param-layout.js';
import { NextItemScorer } from '../src/next-item/scorer.js';
import { expectHeadGradients } from './helpers.js';

beforeAll(() => useWasmBackend());

const V = 14;
const D = 8;
const config: GPT2Config = { vocabSize: V, nPositions: 8, nEmbd: D, nLayer: 2, nHead: 2, layerNormEpsilon: 1e-5 };
// Tokens 0..2 are specials ([PAD], [BOS], ...), 3..13 items: every item is a candidate.
const isItem = Uint8Array.from({ length: V }, (_, i) => (i >= 3 ? 1 : 0));
const items = Int32Array.from({ length: V - 3 }, (_, i) => i + 3);
// Repeats (5 and 7 come back, 8 too), and a shorter row padded by the loss.
const rows = [Int32Array.from([1, 5, 7, 5, 9, 7, 4]), Int32Array.from([1, 8, 3, 8])];
const targetCount = rows.reduce((n, r) => n + r.length - 1, 0);

function randomParams(layout: ParamLayout, cosineScale: number): Float32Array {
  const rng = new Rng(17);
  const params = new Float32Array(layout.size);
  for (const { name, offset, size } of layout.entries) {
    const gain = /ln_(\d|f)\.weight$/.test(name) ? 1 : 0;
    // Heads included: a real item bias and repeat bonus, so their terms count in the loss.
    for (let i = offset; i < offset + size; i++) params[i] = gain + rng.normal() * 0.3;
  }
  if (cosineScale) layout.view(params, COSINE_SCALE)[0] = cosineScale;
  return params;
}

const fullSoftmaxInput: ShardInput = {
  rows,
  rowSeeds: [1, 2],
  negatives: items,
  negativeLogKQ: new Float32Array(items.length),
  normalizer: targetCount,
  dropout: 0,
};

describe.each([
  ['dot-product', 0],
  ['cosine', 3],
])('full-softmax next-item loss (item bias, repeat bonus; %s)', (_, cosineScale) => {
  const layout = new ParamLayout(nextItemShapes(config, { itemBias: true, repeat: true, cosineScale }));
  const params = randomParams(layout, cosineScale);

  it('is the cross-entropy over every item of the scores the evaluation ranks by', () => {
    const out = shardGradients(config, layout, params, isItem, fullSoftmaxInput);
    expect(out.targets).toBe(targetCount);
    const scorer = new NextItemScorer(config, layout.toTensorMap(params), isItem);
    const scores = scorer.scoreAt(
      rows.map((r) => Array.from(r)),
      rows.map((r) => Array.from({ length: r.length - 1 }, (_, t) => t)),
    );
    const all = scores.arraySync();
    scores.dispose();
    scorer.dispose();
    let reference = 0;
    let n = 0;
    for (const row of rows) {
      for (let t = 0; t + 1 < row.length; t++, n++) {
        const s = Array.from(items, (c) => all[n]![c]!);
        const max = Math.max(...s);
        const logSum = max + Math.log(s.reduce((sum, x) => sum + Math.exp(x - max), 0));
        reference += logSum - all[n]![row[t + 1]!]!;
      }
    }
    expect(n).toBe(targetCount);
    expect(out.lossSum / targetCount).toBeCloseTo(reference / targetCount, 4);
  });

  it('has gradients that match central finite differences', () => {
    const out = shardGradients(config, layout, params, isItem, fullSoftmaxInput);
    const lossAt = () => shardGradients(config, layout, params, isItem, fullSoftmaxInput).lossSum / targetCount;
    expectHeadGradients(out, layout, params, lossAt);
  });
});

describe('recipeFor', () => {
  const sampled = DIGINETICA_RECIPE.negatives;

  it('trains a catalog no larger than the sampled negatives with the full softmax, a larger one with sampled negatives, for small and large data alike', () => {
    for (const trainTokens of [150_000, 1_000_000]) {
      expect(recipeFor(trainTokens, 30).negatives).toBe(0);
      expect(recipeFor(trainTokens, sampled).negatives).toBe(0);
      expect(recipeFor(trainTokens, sampled + 1).negatives).toBe(sampled);
      expect(recipeFor(trainTokens, 12_101).negatives).toBe(sampled);
      expect(recipeFor(trainTokens, 43_097).negatives).toBe(sampled);
    }
  });

  it('changes nothing else by the catalog size', () => {
    const { negatives: _small, ...small } = recipeFor(150_000, 100);
    const { negatives: _large, ...large } = recipeFor(150_000, 100_000);
    expect(small).toEqual(large);
    expect(recipeFor(1_000_000, 100_000)).toEqual(DIGINETICA_RECIPE);
  });
});
