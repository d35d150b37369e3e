import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { useWasmBackend } from '../src/backend.js';
import { Rng } from '../src/lib/prng.js';
import { GPT2, parameterShapes, type GPT2Config } from '../src/model.js';
import type { TensorMap } from '../src/safetensors.js';

const config: GPT2Config = { vocabSize: 11, nPositions: 8, nEmbd: 8, nLayer: 2, nHead: 2, layerNormEpsilon: 1e-5 };

/** Larger-than-GPT-2 random weights, so every path (attention, GELU, LayerNorm gain) has real gradients. */
function randomWeights(seed: number): TensorMap {
  const rng = new Rng(seed);
  const weights: TensorMap = new Map();
  for (const [name, shape] of parameterShapes(config)) {
    const data = new Float32Array(shape.reduce((n, d) => n * d, 1));
    const isGain = /ln_(\d|f)\.weight$/.test(name);
    for (let i = 0; i < data.length; i++) data[i] = (isGain ? 1 : 0) + rng.normal() * 0.3;
    weights.set(name, { shape, data });
  }
  return weights;
}

describe('gradients', () => {
  it('match central finite differences', async () => {
    await useWasmBackend();
    const model = new GPT2(config, randomWeights(11));
    // Two rows, the second right-padded: [PAD] targets must not count.
    const ids = tf.tensor2d([[1, 4, 7, 9, 3, 5], [1, 6, 8, 2, 0, 0]], [2, 6], 'int32');
    const targets = tf.tensor2d([[4, 7, 9, 3, 5, 10], [6, 8, 2, 0, 0, 0]], [2, 6], 'int32');
    // Next-item objective too: items are ids 6..10 here.
    const next = {
      items: tf.tensor2d([[7, 7, 9, 10, 10, 10], [6, 8, 0, 0, 0, 0]], [2, 6], 'int32'),
      itemBias: tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((id) => (id >= 6 ? 0 : -1e9))),
    };
    const lossValue = () => tf.tidy(() => model.loss(ids, targets, next).dataSync()[0]!);
    const { grads, value } = tf.variableGrads(() => model.loss(ids, targets, next), [...model.variables.values()]);
    value.dispose();

    const checked = [
      'transformer.wte.weight',
      'transformer.wpe.weight',
      'transformer.h.0.ln_1.weight',
      'transformer.h.0.attn.c_attn.weight',
      'transformer.h.0.attn.c_proj.bias',
      'transformer.h.1.mlp.c_fc.weight',
      'transformer.h.1.mlp.c_proj.weight',
      'transformer.ln_f.bias',
    ];
    const eps = 1e-2;
    let compared = 0;
    for (const name of checked) {
      const variable = model.variables.get(name)!;
      const analytic = grads[name]!.dataSync() as Float32Array;
      // The 3 entries with the largest gradients: where a wrong gradient would show.
      const indices = [...analytic.keys()].sort((a, b) => Math.abs(analytic[b]!) - Math.abs(analytic[a]!)).slice(0, 3);
      const original = Float32Array.from(variable.dataSync() as Float32Array);
      for (const index of indices) {
        const at = (delta: number) => {
          const data = Float32Array.from(original);
          data[index] = original[index]! + delta;
          variable.assign(tf.tensor(data, variable.shape));
          return lossValue();
        };
        const numeric = (at(eps) - at(-eps)) / (2 * eps);
        variable.assign(tf.tensor(original, variable.shape));
        const exact = analytic[index]!;
        expect(Math.abs(numeric - exact), `${name}[${index}] analytic ${exact} numeric ${numeric}`).toBeLessThan(
          0.02 * Math.abs(exact) + 5e-4,
        );
        compared++;
      }
    }
    expect(compared).toBe(checked.length * 3);
    tf.dispose([ids, targets, next.items, next.itemBias, ...Object.values(grads)]);
    model.dispose();
  });
});
