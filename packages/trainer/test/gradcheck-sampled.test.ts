import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useWasmBackend } from '../src/backend.js';
import { Rng } from '../src/lib/prng.js';
import { gatherRows, matMul, type GPT2Config } from '../src/model.js';
import { nextItemShapes } from '../src/next-item/heads.js';
import { shardGradients, type ShardInput } from '../src/next-item/loss.js';
import { AliasSampler } from '../src/next-item/negatives.js';
import { ParamLayout } from '../src/next-item/param-layout.js';
import { expectHeadGradients } from './helpers.js';

beforeAll(() => useWasmBackend());

describe('custom gradients', () => {
  it('gatherRows: ScatterNd gradient adds up duplicate rows', () => {
    const table = tf.tensor2d([[1, 2], [3, 4], [5, 6]]);
    const idx = tf.tensor1d([2, 0, 2], 'int32');
    const weights = tf.tensor2d([[1, 10], [100, 1000], [2, 20]]);
    const g = tf.grad((t: tf.Tensor) => gatherRows(t, idx).mul(weights).sum())(table);
    expect(Array.from(g.dataSync())).toEqual([100, 1000, 0, 0, 3, 30]);
    expect(gatherRows(table, idx).arraySync()).toEqual([[5, 6], [1, 2], [5, 6]]);
  });

  it('matMul: explicit-transpose gradient equals tf.matMul gradient (2-D and batched)', () => {
    for (const [sa, sb] of [[[3, 4], [4, 5]], [[2, 3, 4, 5], [2, 3, 5, 6]]] as const) {
      const a = tf.randomNormal([...sa], 0, 1, 'float32', 1);
      const b = tf.randomNormal([...sb], 0, 1, 'float32', 2);
      const w = tf.randomNormal([...sa.slice(0, -1), sb[sb.length - 1]!], 0, 1, 'float32', 3);
      const ours = tf.grads((x: tf.Tensor, y: tf.Tensor) => matMul(x, y).mul(w).sum())([a, b]);
      const ref = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.matMul(x, y).mul(w).sum())([a, b]);
      for (let i = 0; i < 2; i++) {
        const d = tf.max(tf.abs(ours[i]!.sub(ref[i]!))).dataSync()[0]!;
        expect(d).toBeLessThan(1e-4);
      }
    }
  });
});

describe('sampled-softmax next-item loss', () => {
  it.each([
    ['dot-product', 0],
    ['cosine', 3],
  ])('gradients match central finite differences (item bias, repeat bonus, logQ, masks; %s)', (_, cosineScale) => {
    const config: GPT2Config = { vocabSize: 14, nPositions: 8, nEmbd: 8, nLayer: 2, nHead: 2, layerNormEpsilon: 1e-5 };
    const layout = new ParamLayout(nextItemShapes(config, { itemBias: true, repeat: true, cosineScale }));
    const rng = new Rng(5);
    const params = new Float32Array(layout.size);
    for (const { name, offset, size } of layout.entries) {
      const gain = /ln_(\d|f)\.weight$/.test(name) ? 1 : 0;
      for (let i = offset; i < offset + size; i++) params[i] = gain + rng.normal() * 0.3;
    }
    if (cosineScale) layout.view(params, 'hunch.cosine.scale')[0] = cosineScale;
    const isItem = Uint8Array.from({ length: 14 }, (_, i) => (i >= 3 ? 1 : 0));
    const counts = Array.from({ length: 14 }, (_, i) => (i >= 3 ? i : 0));
    const sampler = new AliasSampler(counts.map((c, i) => (isItem[i] ? (c + 1) ** 0.75 : 0)));
    const K = 6;
    const negatives = sampler.sample(new Rng(9), K);
    const input: ShardInput = {
      // Repeats (5, 7), a target equal to a negative somewhere, and a padded row.
      rows: [Int32Array.from([1, 5, 7, 5, 9, 7, 4]), Int32Array.from([1, 8, 3, 8])],
      rowSeeds: [1, 2],
      negatives,
      negativeLogKQ: Float32Array.from(negatives, (n) => Math.log(K) + sampler.logQ[n]!),
      normalizer: 9,
      dropout: 0,
    };
    const out = shardGradients(config, layout, params, isItem, input);
    const lossAt = () => shardGradients(config, layout, params, isItem, input).lossSum / input.normalizer;
    expectHeadGradients(out, layout, params, lossAt);
    expect(Math.abs(out.lossSum)).toBeGreaterThan(0);
    expect(out.targets).toBe(9);
  });
});
