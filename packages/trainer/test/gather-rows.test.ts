/** gatherRows copies rows within the wasm heap on wasm (wasm-gather-rows.ts): the same values and gradient as tf.gather / ScatterNd. */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useWasmBackend } from '../src/backend.js';
import { gatherRows } from '../src/model.js';

beforeAll(() => useWasmBackend());

describe('gatherRows on wasm', () => {
  it('gives tf.gather’s rows, and a gradient that adds up repeated rows', () => {
    expect(tf.getBackend()).toBe('wasm');
    const table = tf.tensor2d(Array.from({ length: 15 }, (_, i) => i * 0.5 - 3), [5, 3]);
    const index = tf.tensor1d([4, 0, 4, 2], 'int32');
    expect([...gatherRows(table, index).dataSync()]).toEqual([...tf.gather(table, index).dataSync()]);
    const weights = tf.tensor2d(Array.from({ length: 12 }, (_, i) => i + 1), [4, 3]);
    const [grad] = tf.grads((t: tf.Tensor) => gatherRows(t, index).mul(weights).sum())([table]);
    // Row 4 twice (weights rows 0 and 2), row 0 once (row 1), row 2 once (row 3), rows 1 and 3 never.
    expect([...grad!.dataSync()]).toEqual([4, 5, 6, 0, 0, 0, 10, 11, 12, 0, 0, 0, 8, 10, 12]);
    const biases = tf.tensor2d([[1], [2], [3]], [3, 1]);
    expect([...gatherRows(biases, tf.tensor1d([2, 2, 0], 'int32')).dataSync()]).toEqual([3, 3, 1]);
  });

  it('refuses an index outside the table in one line', () => {
    expect(() => gatherRows(tf.zeros([2, 2]), tf.tensor1d([1, 2], 'int32'))).toThrow("gatherRows: index 2 is outside the table's 2 rows");
  });
});
