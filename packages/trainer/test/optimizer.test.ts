/**
 * AdamW in parts (train/optimizer.ts): ranges of the flat parameters updated separately, as
 * the training workers do, give the bits of one whole update, and the update is the one the
 * optimizer computed before it was split (the reference below).
 */
import { describe, expect, it } from 'vitest';
import { applyAdamW, FlatAdamW, type AdamWOptions, type Segment } from '../src/train/optimizer.js';
import { Rng } from '../src/lib/prng.js';

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
