/**
 * The PyTorch trainer computes what the Node trainer computes: on the same weights (written
 * by the Node side as a checkpoint, read by hunch_torch), GPT-2's logits, the next-item loss
 * (item bias, cosine scoring, repeat bonus, sampled negatives with logQ and their masks) and
 * every gradient agree within 1e-5.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { COSINE_SCALE, ITEM_BIAS, ITEM_TABLE, REPEAT_BIAS, REPEAT_WEIGHT } from '@hunch/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useWasmBackend } from '../src/backend.js';
import { researchVocabulary } from '../src/benchmark-evaluation.js';
import { Rng } from '../src/lib/prng.js';
import { GPT2, type GPT2Config } from '../src/model.js';
import { writeNextItemCheckpoint } from '../src/next-item/checkpoint.js';
import { initNextItem, nextItemShapes, type HeadOptions } from '../src/next-item/heads.js';
import { shardGradients } from '../src/next-item/loss.js';
import { AliasSampler } from '../src/next-item/negatives.js';
import { ParamLayout } from '../src/next-item/param-layout.js';
import { maxAbsDiff } from './parity.js';
import { python } from './torch-helpers.js';

const V = 40;
const config: GPT2Config = { vocabSize: V, nPositions: 12, nEmbd: 16, nLayer: 2, nHead: 2, layerNormEpsilon: 1e-5 };
const vocabulary = researchVocabulary(Array.from({ length: V - 3 }, (_, i) => `p${i}`)).tokens;
const isItem = Uint8Array.from(vocabulary, (t) => (t.startsWith('item:') ? 1 : 0));
// Repeats (5, 7: the repeat bonus, prefix masks), rows of different lengths (padding).
const rows = [Int32Array.from([1, 5, 7, 5, 9, 7, 4, 12, 7]), Int32Array.from([1, 8, 3, 8]), Int32Array.from([1, 20, 21, 22, 20, 23])];

let work: string;
beforeAll(async () => {
  await useWasmBackend();
  work = await mkdtemp(join(tmpdir(), 'hunch-torch-parity-'));
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe.each([
  ['dot-product', 0],
  ['cosine', 12],
])('TF.js and PyTorch on the same weights (%s scoring)', (name, cosineScale) => {
  it('give the same logits, loss and gradients (<= 1e-5)', { timeout: 120_000 }, async () => {
    const heads: HeadOptions = { itemBias: true, repeat: true, ...(cosineScale ? { cosineScale } : {}) };
    const layout = new ParamLayout(nextItemShapes(config, heads));
    const params = new Float32Array(layout.size);
    initNextItem(config, heads, 3, params, layout);
    // Heads start at zero: give them values that change the scores.
    const rng = new Rng(11);
    for (const head of [ITEM_BIAS, REPEAT_WEIGHT, REPEAT_BIAS]) layout.view(params, head).forEach((_, i, view) => (view[i] = rng.normal() * 0.5));
    const weights = layout.toTensorMap(params);
    const dir = join(work, name);
    await writeNextItemCheckpoint(dir, { config, heads, weights, vocabulary }, { itemCounts: {}, training: { events: 0, sequences: 0, steps: 0, finalLoss: 0, seed: 0, skippedLines: 0, batch: 0, learningRate: 0, seconds: 0, tokensPerSecond: 0 } });

    // Negatives that hit targets (7, 8) and prefix items (5, 20), from the sampler the trainer uses.
    const sampler = new AliasSampler(Array.from(isItem, (item, i) => (item ? (i % 5) + 1 : 0)));
    const negatives = Int32Array.from([...sampler.sample(new Rng(9), 12), 7, 8, 5, 20]);
    const negativeLogKQ = Float32Array.from(negatives, (n) => Math.log(negatives.length) + sampler.logQ[n]!);
    const normalizer = rows.reduce((n, r) => n + r.length - 1, 0);
    const node = shardGradients(config, layout, params, isItem, { rows, rowSeeds: [0, 0, 0], negatives, negativeLogKQ, normalizer, dropout: 0 });
    const T = Math.max(...rows.map((r) => r.length)) - 1;
    const ids = rows.flatMap((r) => Array.from({ length: T }, (_, t) => (t < r.length - 1 ? r[t]! : 0)));
    const model = new GPT2(config, weights);
    const logits = tf.tidy(() => model.forward(tf.tensor2d(ids, [rows.length, T], 'int32')).dataSync() as Float32Array);
    model.dispose();

    const batch = join(work, `${name}-batch.json`);
    await writeFile(batch, JSON.stringify({ rows: rows.map((r) => Array.from(r)), negatives: Array.from(negatives), logKQ: Array.from(negativeLogKQ) }));
    const run = await python(['-m', 'hunch_torch.probe', dir, batch]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const torch = JSON.parse(run.stdout) as { logits: number[]; lossSum: number; targets: number; grads: Record<string, number[]> };

    expect(torch.targets).toBe(node.targets);
    expect(torch.logits.length).toBe(rows.length * T * V);
    expect(maxAbsDiff(torch.logits, logits)).toBeLessThanOrEqual(1e-5);
    expect(Math.abs(torch.lossSum / normalizer - node.lossSum / normalizer)).toBeLessThanOrEqual(1e-5);
    // Every dense gradient, and the rows of wte and lm_head.bias the batch touched (the rest are 0 in both).
    for (const [tensor, grad] of node.dense) expect(maxAbsDiff(torch.grads[tensor]!.map((g) => g / normalizer), grad), tensor).toBeLessThanOrEqual(1e-5);
    const D = config.nEmbd;
    const wte = torch.grads[ITEM_TABLE]!;
    const bias = torch.grads[ITEM_BIAS]!;
    node.rows.forEach((token, u) => {
      expect(maxAbsDiff(wte.slice(token * D, token * D + D).map((g) => g / normalizer), node.wteGrad.subarray(u * D, u * D + D)), `wte row ${token}`).toBeLessThanOrEqual(1e-5);
      expect(Math.abs(bias[token]! / normalizer - node.biasGrad![u]!), `bias ${token}`).toBeLessThanOrEqual(1e-5);
    });
    const touched = new Set(node.rows);
    expect(bias.every((g, token) => touched.has(token) || g === 0)).toBe(true);
    expect(COSINE_SCALE in torch.grads).toBe(false); // a setting, never trained
  });
});
