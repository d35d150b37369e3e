/**
 * The GPT-2's gradients as training computes them (next-item/loss.ts shardGradients, here
 * a full softmax over every token but [PAD]) against central finite differences.
 */
import { describe, expect, it } from 'vitest';
import { useWasmBackend } from '../src/backend.js';
import { Rng } from '../src/lib/prng.js';
import type { GPT2Config } from '../src/model.js';
import { nextItemShapes } from '../src/next-item/heads.js';
import { shardGradients, type ShardInput } from '../src/next-item/loss.js';
import { ParamLayout } from '../src/next-item/param-layout.js';
import { expectFiniteDifferences } from './helpers.js';

const config: GPT2Config = { vocabSize: 11, nPositions: 8, nEmbd: 8, nLayer: 2, nHead: 2, layerNormEpsilon: 1e-5 };

describe('gradients', () => {
  it('match central finite differences', async () => {
    await useWasmBackend();
    const layout = new ParamLayout(nextItemShapes(config, { itemBias: false, repeat: false }));
    // Larger-than-GPT-2 random weights, so every path (attention, GELU, LayerNorm gain) has real gradients.
    const params = new Float32Array(layout.size);
    const rng = new Rng(11);
    for (const { name, offset, size } of layout.entries) {
      const isGain = /ln_(\d|f)\.weight$/.test(name);
      for (let i = offset; i < offset + size; i++) params[i] = (isGain ? 1 : 0) + rng.normal() * 0.3;
    }
    // Items are ids 6..10 (scored with the prefix machinery); every token but [PAD] is a candidate.
    const isItem = Uint8Array.from({ length: 11 }, (_, id) => (id >= 6 ? 1 : 0));
    const candidates = Int32Array.from({ length: 10 }, (_, i) => i + 1);
    const input: ShardInput = {
      // Two rows, the second right-padded: [PAD] targets must not count.
      rows: [Int32Array.from([1, 4, 7, 9, 3, 5, 10]), Int32Array.from([1, 6, 8, 2, 0, 0, 0])],
      rowSeeds: [1, 2],
      negatives: candidates,
      negativeLogKQ: new Float32Array(candidates.length),
      normalizer: 9,
      dropout: 0,
    };
    const out = shardGradients(config, layout, params, isItem, input);
    expect(out.targets).toBe(9);
    const lossAt = () => shardGradients(config, layout, params, isItem, input).lossSum / input.normalizer;
    // A dense view of the sparse wte gradient.
    const wte = new Float32Array(11 * 8);
    out.rows.forEach((token, u) => wte.set(out.wteGrad.subarray(u * 8, u * 8 + 8), token * 8));
    const analytic = new Map<string, Float32Array>([...out.dense, ['transformer.wte.weight', wte]]);
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
    const compared = expectFiniteDifferences(params, (name) => layout.view(params, name), analytic, checked, lossAt, { relative: 0.02, absolute: 5e-4 });
    expect(compared).toBe(checked.length * 3);
  });
});
