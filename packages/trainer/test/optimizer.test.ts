/**
 * AdamW in parts (train/optimizer.ts): ranges of the flat parameters updated separately, as
 * the training workers do, give the bits of one whole update, and the update is the one the
 * optimizer computed before it was split (the reference below); the clip's gradient norm
 * summed over the touched rows only (next-item/loss.ts) is the full sum's.
 */
import { describe, expect, it } from 'vitest';
import { ITEM_BIAS, ITEM_TABLE } from '@hunch/core';
import { Rng } from '../src/lib/prng.js';
import { nextItemShapes } from '../src/next-item/heads.js';
import { accumulate, clearGradients, gradientSquares } from '../src/next-item/loss.js';
import { ParamLayout } from '../src/next-item/param-layout.js';
import { applyAdamW, FlatAdamW, type AdamWOptions, type Segment } from '../src/train/optimizer.js';

const options: AdamWOptions = { beta1: 0.9, beta2: 0.98, eps: 1e-8, weightDecay: 0.01, clip: 1 };
const size = 1000;
const segments: Segment[] = [
  { offset: 0, size: 600, decay: true },
  { offset: 600, size: 150, decay: false },
  { offset: 750, size: 250, decay: true },
];

/** The whole update as one loop over the segments (the optimizer before the split). */
function reference(params: Float32Array, grads: Float32Array, m: Float32Array, v: Float32Array, t: number, lr: number): void {
  const { beta1, beta2, eps, weightDecay, clip } = options;
  let sq = 0;
  for (let i = 0; i < grads.length; i++) sq += grads[i]! * grads[i]!;
  const norm = Math.sqrt(sq);
  const scale = clip > 0 && norm > clip ? clip / (norm + 1e-6) : 1;
  const c1 = 1 / (1 - beta1 ** t);
  const c2 = 1 / (1 - beta2 ** t);
  for (const { offset, size, decay } of segments) {
    const keep = decay ? 1 - lr * weightDecay : 1;
    for (let i = offset, end = offset + size; i < end; i++) {
      const g = grads[i]! * scale;
      const mi = (m[i] = beta1 * m[i]! + (1 - beta1) * g);
      const vi = (v[i] = beta2 * v[i]! + (1 - beta2) * g * g);
      params[i] = params[i]! * keep - (lr * (mi * c1)) / (Math.sqrt(vi * c2) + eps);
    }
  }
}

const random = (rng: Rng, scale: number) => Float32Array.from({ length: size }, () => rng.normal() * scale);

describe('AdamW', () => {
  it('updated in ranges (as the workers do) gives the bits of the whole update and of the reference', () => {
    const rng = new Rng(5);
    const start = random(rng, 0.5);
    const whole = new FlatAdamW(size, segments, options);
    const parts = new FlatAdamW(size, segments, options, true);
    const ref = { params: start.slice(), m: new Float32Array(size), v: new Float32Array(size) };
    const wholeParams = start.slice();
    const partParams = new Float32Array(new SharedArrayBuffer(size * 4));
    partParams.set(start);
    for (let t = 1; t <= 5; t++) {
      // Large gradients on odd steps, so that clipping is exercised too.
      const grads = random(rng, t % 2 ? 0.2 : 0.01);
      const lr = 1e-3 * t;
      whole.step(wholeParams, grads, lr);
      const { update } = parts.begin(grads, lr);
      // Ranges that cut segments, applied out of order.
      for (const [from, to] of [[700, 1000], [0, 333], [333, 700]] as const) applyAdamW(parts, partParams, grads, update, from, to);
      reference(ref.params, grads, ref.m, ref.v, t, lr);
      expect(update.scale < 1).toBe(t % 2 === 1);
    }
    expect(Array.from(partParams)).toEqual(Array.from(wholeParams));
    expect(Array.from(parts.m)).toEqual(Array.from(whole.m));
    expect(Array.from(parts.v)).toEqual(Array.from(whole.v));
    expect(Array.from(wholeParams)).toEqual(Array.from(ref.params));
    expect(Array.from(whole.m)).toEqual(Array.from(ref.m));
    expect(parts.m.buffer).toBeInstanceOf(SharedArrayBuffer);
  });
});

describe('the gradient norm from the touched rows', () => {
  it('is the bits of the sum of squares over every element; clearing the touched rows zeroes them all', () => {
    const config = { vocabSize: 50, nPositions: 8, nEmbd: 4, nLayer: 1, nHead: 1, layerNormEpsilon: 1e-5 };
    const layout = new ParamLayout(nextItemShapes(config, { itemBias: true, repeat: true }));
    const rng = new Rng(11);
    const grads = new Float32Array(layout.size);
    const dense = new Map(layout.entries.filter((e) => e.name !== ITEM_TABLE && e.name !== ITEM_BIAS).map((e) => [e.name, random(rng, 1).subarray(0, e.size)] as const));
    for (const [name, g] of dense) expect(g.length, name).toBe(layout.byName.get(name)!.size);
    // Two shards touching overlapping rows, in no particular order.
    const shards = [Int32Array.from([7, 3, 41, 12]), Int32Array.from([12, 49, 0, 7])].map((rows) => ({
      lossSum: 0,
      targets: 0,
      dense,
      rows,
      wteGrad: random(rng, 0.3).subarray(0, rows.length * 4),
      biasGrad: random(rng, 0.3).subarray(0, rows.length),
    }));
    for (const out of shards) accumulate(layout, grads, out, 4);
    let every = 0;
    for (let i = 0; i < grads.length; i++) every += grads[i]! * grads[i]!;
    const squares = gradientSquares(layout, grads, shards.map((s) => s.rows), 4);
    expect(squares).toBe(every);
    // A row left out is missed: the test can tell.
    expect(gradientSquares(layout, grads, [Int32Array.from([7, 3, 41, 12, 49])], 4)).not.toBe(every);
    // Clearing what the shards wrote leaves every gradient zero for the next step.
    clearGradients(layout, grads, shards.map((s) => s.rows), 4);
    expect(grads.every((g) => g === 0)).toBe(true);
  });
});
