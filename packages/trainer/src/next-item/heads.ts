/**
 * The next-item model: GPT-2 (model.ts) plus small scoring heads, whose tensor names are
 * the model contract's (core model-contract.ts), read by the exporter and the browser too.
 *
 * Score of candidate item c after a prefix whose last hidden state is h:
 *   s(c) = h · wte[c] + lm_head.bias[c] + [c in prefix] * (h · hunch.repeat.weight + hunch.repeat.bias)
 * - `lm_head.bias` [V]: an item-popularity bias (HF GPT-2 has no LM-head bias; an exporter
 *   adds it to the logits).
 * - `hunch.repeat.weight` [D], `hunch.repeat.bias` [1]: a learned, context-dependent bonus
 *   for items already in the prefix (repeat clicks are common in session data).
 *
 * Cosine scoring (when `hunch.cosine.scale` [1] is present, a fixed τ): every embedding
 * row is L2-normalised before use (as input and as output), and h · e becomes
 * τ · (h / |h|) · e, as in NISER and CORE. Scores then live in [-τ, τ]: popular items
 * cannot win by growing their norms, the long tail is ranked fairly, and the softmax
 * temperature is set rather than learned by inflating weights.
 */
import type * as tf from '@tensorflow/tfjs';
import { COSINE_SCALE, ITEM_BIAS, REPEAT_BIAS, REPEAT_WEIGHT } from '@hunch/core';
import { initParameters, parameterShapes, type GPT2Config } from '../model.js';
import type { ParamLayout } from './param-layout.js';

export interface HeadOptions {
  /** Learn `lm_head.bias` [V]. */
  itemBias: boolean;
  /** Learn the repeat bonus (`hunch.repeat.*`). */
  repeat: boolean;
  /** > 0: cosine scoring with this fixed scale τ (stored as `hunch.cosine.scale`, never trained). */
  cosineScale?: number;
}

/** Row-wise L2 normalisation (eps keeps all-zero rows finite). */
export function normalizeRows(x: tf.Tensor): tf.Tensor {
  return x.div(x.square().sum(-1, true).add(1e-12).sqrt());
}

/** Every parameter (HF GPT-2 ones, then the heads) with its shape. */
export function nextItemShapes(config: GPT2Config, heads: HeadOptions): Array<[string, number[]]> {
  const shapes = parameterShapes(config);
  if (heads.itemBias) shapes.push([ITEM_BIAS, [config.vocabSize]]);
  if (heads.repeat) shapes.push([REPEAT_WEIGHT, [config.nEmbd]], [REPEAT_BIAS, [1]]);
  if (heads.cosineScale) shapes.push([COSINE_SCALE, [1]]);
  return shapes;
}

/** GPT-2 initialisation (model.ts) plus zero heads. */
export function initNextItem(config: GPT2Config, heads: HeadOptions, seed: number, into: Float32Array, layout: ParamLayout): void {
  const base = initParameters(config, seed);
  for (const [name, t] of base) layout.view(into, name).set(t.data);
  // Heads start at zero: the model begins as plain tied GPT-2.
  if (heads.cosineScale) layout.view(into, COSINE_SCALE)[0] = heads.cosineScale;
}
