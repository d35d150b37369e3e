/**
 * Int8 GPT-2 exports for the worker's tests, and onnxruntime-node running them: the reference
 * the worker's own item head (item-head.test.ts) and its own GPT-2 (gpt2-engine.test.ts) are
 * checked against.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { COSINE_SCALE, ITEM_BIAS, REPEAT_BIAS, REPEAT_WEIGHT } from '@hunch/core';
import * as ort from 'onnxruntime-node';
import { buildOnnxModel, exportedTable } from '../../../trainer/src/onnx/gpt2.js';
import { quantizePq, type PqOptions } from '../../../trainer/src/onnx/pq.js';
import { Rng } from '../../../trainer/src/lib/prng.js';
import { parameterShapes, type GPT2Config } from '../../../trainer/src/model.js';
import type { TensorMap } from '../../../trainer/src/safetensors.js';

/** A file of the shipped demo model. */
export const demoModel = (file: string): Buffer => readFileSync(fileURLToPath(new URL(`../../../../models/demo/${file}`, import.meta.url)));

/** A random GPT-2 with every Hunch head (item bias, cosine scoring, repeat bonus; none with `heads` false), as the trainer exports it (pq: quantized with `pq`). */
export function exportedWithHeads(variant: 'fp32' | 'int8' | 'q4' | 'pq', heads = true, pq?: PqOptions): { config: GPT2Config; bytes: Uint8Array } {
  const config: GPT2Config = { vocabSize: 300, nPositions: 16, nEmbd: 32, nLayer: 2, nHead: 2, layerNormEpsilon: 1e-5 };
  const rng = new Rng(17);
  const weights: TensorMap = new Map();
  const random = (shape: number[], gain = 0, std = 0.3) => ({ shape, data: Float32Array.from({ length: shape.reduce((n, d) => n * d, 1) }, () => gain + rng.normal() * std) });
  for (const [name, shape] of parameterShapes(config)) weights.set(name, random(shape, /ln_(\d|f)\.weight$/.test(name) ? 1 : 0));
  if (heads) {
    weights.set(ITEM_BIAS, random([config.vocabSize]));
    weights.set(COSINE_SCALE, { shape: [1], data: Float32Array.of(12) });
    weights.set(REPEAT_WEIGHT, random([config.nEmbd]));
    weights.set(REPEAT_BIAS, random([1]));
  }
  const pqTable = variant === 'pq' && pq ? quantizePq(exportedTable(config, weights), config.vocabSize, config.nEmbd, pq) : undefined;
  return { config, bytes: buildOnnxModel(config, weights, variant, pqTable) };
}

export interface Layout {
  layers: number;
  heads: number;
  headDim: number;
}

/** Runs `tokens` from an empty cache, then one more token on the cache: the last position's outputs of the second call. */
export async function step(session: ort.InferenceSession, layout: Layout, tokens: number[], next: number) {
  const int64 = (values: number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(values, BigInt), dims);
  const feeds = (ids: number[], total: number, past: Record<string, ort.Tensor>) => ({
    input_ids: int64(ids, [1, ids.length]),
    attention_mask: int64(new Array<number>(total).fill(1), [1, total]),
    num_logits_to_keep: int64([1], []),
    ...past,
  });
  const empty: Record<string, ort.Tensor> = {};
  for (let i = 0; i < layout.layers; i++) {
    for (const kind of ['key', 'value']) empty[`past_key_values.${i}.${kind}`] = new ort.Tensor('float32', new Float32Array(0), [1, layout.heads, 0, layout.headDim]);
  }
  const first = await session.run(feeds(tokens, tokens.length, empty));
  const past = Object.fromEntries(Object.entries(first).filter(([name]) => name.startsWith('present.')).map(([name, t]) => [name.replace('present.', 'past_key_values.'), t]));
  return session.run(feeds([next], tokens.length + 1, past));
}


/** The largest |a[i] - b[i]|. */
export const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
};

/** The ids of the k largest logits, largest first. */
export const topIds = (logits: ArrayLike<number>, k: number): number[] =>
  Array.from(logits, (value, id) => ({ value, id }))
    .sort((a, b) => b.value - a.value)
    .slice(0, k)
    .map(({ id }) => id);
