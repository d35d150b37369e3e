/**
 * The wasm backend's Identity and same-dtype Cast share the input's buffer (wasm-sharing.ts):
 * no copy, and the buffer lives until its last user is disposed.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useWasmBackend } from '../src/backend.js';

beforeAll(() => useWasmBackend());

describe('wasm buffer sharing', () => {
  it('clones and same-dtype casts without a new buffer, which outlives the original', () => {
    expect(tf.getBackend()).toBe('wasm');
    const x = tf.tensor1d([1, 2, 3]);
    const buffers = tf.memory().numDataBuffers;
    const copy = tf.clone(x);
    const cast = tf.cast(x, 'float32');
    expect(tf.memory().numDataBuffers).toBe(buffers);
    x.dispose();
    expect([...copy.dataSync()]).toEqual([1, 2, 3]);
    copy.dispose();
    expect([...cast.dataSync()]).toEqual([1, 2, 3]);
    cast.dispose();
    expect(tf.memory().numDataBuffers).toBe(buffers - 1);
  });

  it('still converts between dtypes, and frees the buffers kept for a gradient', () => {
    const x = tf.tensor1d([1.7, -2.2]);
    const asInt = tf.cast(x, 'int32');
    expect(tf.memory().numDataBuffers).toBeGreaterThan(0);
    expect([...asInt.dataSync()]).toEqual([1, -2]);
    tf.dispose([x, asInt]);
    const before = tf.memory().numDataBuffers;
    const w = tf.tensor2d([[0.5, -1], [2, 0.25]]);
    const { value, grads } = tf.valueAndGrads((a: tf.Tensor) => tf.tanh(tf.matMul(a, a)).mul(a).sum() as tf.Scalar)([w]);
    // d/dw of sum(tanh(w w) * w), by central differences.
    const f = (v: number[]) => tf.tidy(() => { const t = tf.tensor2d(v, [2, 2]); return tf.tanh(tf.matMul(t, t)).mul(t).sum().dataSync()[0]!; });
    const base = [0.5, -1, 2, 0.25];
    const g = grads[0]!.dataSync();
    base.forEach((_, i) => {
      const up = [...base];
      const down = [...base];
      up[i]! += 1e-2;
      down[i]! -= 1e-2;
      expect(g[i]).toBeCloseTo((f(up) - f(down)) / 2e-2, 2);
    });
    tf.dispose([value, ...grads, w]);
    expect(tf.memory().numDataBuffers).toBe(before);
  });
});
