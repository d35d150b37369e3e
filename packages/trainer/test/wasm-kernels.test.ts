/**
 * The trainer's own wasm kernels against the computations they replace, bit for bit:
 * Sum over leading axes (wasm-sum.ts) against the backend's own Sum of the transposed input,
 * the sparse accidental-hit mask (next-item/hit-mask.ts) against adding the dense mask, and
 * the weighted sum of rows (wasm-weighted-rows.ts) against the sum written out, with its gradient.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useWasmBackend } from '../src/backend.js';
import { maskHits } from '../src/next-item/hit-mask.js';
import { weightedRows } from '../src/wasm-weighted-rows.js';

beforeAll(() => useWasmBackend());
afterAll(() => useWasmBackend());

const bits = (t: tf.Tensor) => Array.from(new Uint32Array((t.dataSync() as Float32Array).slice().buffer));

describe('Sum over leading axes on wasm', () => {
  it('gives the bits of the backend sum (transposed, summed in order), keepDims and negative axes included', () => {
    expect(tf.getBackend()).toBe('wasm');
    // Values of mixed magnitudes, so that summation order and precision show in the last bits.
    const x = tf.tidy(() => tf.randomNormal([37, 5, 24], 0, 1, 'float32', 7).mul(tf.randomUniform([37, 5, 24], -6, 6, 'float32', 8).exp()));
    const cases: Array<[number | number[], boolean, tf.Tensor]> = [
      [0, false, tf.sum(tf.transpose(x, [1, 2, 0]), -1)],
      [[0, 1], false, tf.sum(tf.transpose(x, [2, 0, 1]).reshape([24, 37 * 5]), -1)],
      [[-3, -2], true, tf.sum(tf.transpose(x, [2, 0, 1]).reshape([24, 37 * 5]), -1).reshape([1, 1, 24])],
    ];
    for (const [axis, keepDims, reference] of cases) {
      const sum = tf.sum(x, axis, keepDims);
      expect(sum.shape).toEqual(reference.shape);
      expect(bits(sum)).toEqual(bits(reference));
    }
    // The float32 sum differs from a double-precision one: the test can tell the two apart.
    const data = x.dataSync();
    const exact = Array.from({ length: 24 * 5 }, (_, j) => Array.from({ length: 37 }, (_, i) => data[i * 120 + j]!).reduce((a, b) => a + b, 0));
    expect(bits(tf.sum(x, 0))).not.toEqual(bits(tf.tensor(exact)));
  });

  it('leaves other reductions to the backend kernel (last axis, middle axis, int32)', () => {
    const x = tf.tensor3d([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [2, 3, 2]);
    expect(tf.sum(x, -1).arraySync()).toEqual([[3, 7, 11], [15, 19, 23]]);
    expect(tf.sum(x, 1).arraySync()).toEqual([[9, 12], [27, 30]]);
    expect(tf.sum(x.toInt(), 0).arraySync()).toEqual([[8, 10], [12, 14], [16, 18]]);
    expect(tf.sum(x).arraySync()).toBe(78);
  });
});

describe('sparse accidental-hit mask', () => {
  const N = 6;
  const K = 9;
  const hits = [0, 10, 11, 30, 53];
  const logits = () => tf.randomNormal([N, K], 0, 4, 'float32', 3) as tf.Tensor2D;
  const dense = (x: tf.Tensor2D) => {
    const mask = new Float32Array(N * K);
    for (const h of hits) mask[h] = -1e9;
    return x.add(tf.tensor2d(mask, [N, K]));
  };

  it('on wasm gives the bits of adding the dense [N, K] mask', () => {
    expect(tf.getBackend()).toBe('wasm');
    const x = logits();
    const masked = maskHits(x, tf.tensor1d(hits, 'int32'));
    expect(bits(masked)).toEqual(bits(dense(x)));
    // The input is left as it was.
    expect(bits(x)).toEqual(bits(logits()));
  });

  it('on another backend (ScatterNd) gives the same bits', async () => {
    await tf.setBackend('cpu');
    const x = logits();
    expect(bits(maskHits(x, tf.tensor1d(hits, 'int32')))).toEqual(bits(dense(x)));
    await useWasmBackend();
  });

  it('names a hit outside the logits', () => {
    expect(() => maskHits(logits(), tf.tensor1d([N * K], 'int32'))).toThrow(/hit 54 is outside the 54 logits/);
  });
});

describe('weighted sum of rows', () => {
  // 4 source rows of 3; pairs (from -> to, weight), two landing on output row 1, output row 2 getting none.
  const source = () => tf.tensor2d([1, 2, 3, -1, 0, 4, 0.5, 0.25, -2, 3, 1, 1], [4, 3]);
  const from = [2, 0, 2, 3];
  const to = [0, 1, 1, 3];
  const weight = [0.5, 2, -1, 0.25];
  const expected = [0.25, 0.125, -1, 1.5, 3.75, 8, 0, 0, 0, 0.75, 0.25, 0.25];
  const outGrad = () => tf.tensor2d(Array.from({ length: 12 }, (_, i) => i + 1), [4, 3]);
  // d source[f] = Σ over the pairs from f of weight · outGrad[to].
  const expectedGrad = [8, 10, 12, 0, 0, 0, -3.5, -4, -4.5, 2.5, 2.75, 3];
  const run = () => {
    const args = [tf.tensor1d(from, 'int32'), tf.tensor1d(to, 'int32'), tf.tensor1d(weight)] as const;
    const value = weightedRows(source(), ...args, 4);
    const [grad] = tf.grads((s: tf.Tensor) => weightedRows(s as tf.Tensor2D, ...args, 4).mul(outGrad()).sum())([source()]);
    return { value: [...value.dataSync()], grad: [...grad!.dataSync()] };
  };

  it('on wasm sums each pair\'s weighted source row into its output row; its gradient is the sum the other way', () => {
    expect(tf.getBackend()).toBe('wasm');
    const { value, grad } = run();
    value.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 6));
    grad.forEach((g, i) => expect(g).toBeCloseTo(expectedGrad[i]!, 6));
  });

  it('on another backend (its own ops) gives the same', async () => {
    await tf.setBackend('cpu');
    const { value, grad } = run();
    value.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 6));
    grad.forEach((g, i) => expect(g).toBeCloseTo(expectedGrad[i]!, 6));
    await useWasmBackend();
  });

  it('names a pair outside the rows', () => {
    expect(() => weightedRows(source(), tf.tensor1d([4], 'int32'), tf.tensor1d([0], 'int32'), tf.tensor1d([1]), 4)).toThrow(/pair 0 \(4 -> 0\) is outside 4 source or 4 output rows/);
  });
});
