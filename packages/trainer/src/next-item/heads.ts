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
import { ATTR_BIAS, ATTR_TABLE, COSINE_SCALE, ITEM_BIAS, ITEM_TABLE, REPEAT_BIAS, REPEAT_WEIGHT } from '@hunch/core';
import { Rng } from '../lib/prng.js';
import { initParameters, parameterShapes, type GPT2Config } from '../model.js';
import type { TensorMap } from '../safetensors.js';
import type { ParamLayout } from './param-layout.js';

/**
 * Attribute-composed item vectors (issue 21 part 2, present only with `HeadOptions.attributes`):
 * the vector of token c, as input and as output, is
 *   e(c) = learned[c] * wte[c] + Σ_j weight[c, j] * attr.table[index[c, j]]
 * with weight[c, j] = 1 / (c's attribute count) over c's attributes (a mean; 0 on padding),
 * and learned[c] = 0 for items training never saw: they are known by their attributes alone.
 * Only `hunch.attr.table` [A, D] is trained; index, weight and learned are the catalog's
 * data, stored flat (rank 1: no weight decay) and never updated. ATTR_TABLE and ATTR_BIAS [A] (with
 * the item bias: b(c) = learned[c] * lm_head.bias[c] + Σ_j weight[c, j] * attr.bias[index[c, j]])
 * are named by core (item-attributes.ts): the export ships them for the browser.
 */
export { ATTR_BIAS, ATTR_TABLE };
/** [V * K]: attribute ids per token, K slots each (floats holding small integers). */
export const ATTR_INDEX = 'hunch.attr.index';
/** [V * K]: each slot's share of the mean (0 for padding slots). */
export const ATTR_WEIGHT = 'hunch.attr.weight';
/** [V]: 1 where the learned embedding counts, 0 for items training never saw. */
export const ATTR_LEARNED = 'hunch.attr.learned';
/** The tensors that are data, not trained: no gradient. */
export const ATTR_FIXED: ReadonlySet<string> = new Set([ATTR_INDEX, ATTR_WEIGHT, ATTR_LEARNED]);

export interface HeadOptions {
  /** Learn `lm_head.bias` [V]. */
  itemBias: boolean;
  /** Learn the repeat bonus (`hunch.repeat.*`). */
  repeat: boolean;
  /** > 0: cosine scoring with this fixed scale τ (stored as `hunch.cosine.scale`, never trained). */
  cosineScale?: number;
  /** Attribute-composed item vectors: `count` attribute ids, at most `perItem` per token (see ATTR_TABLE). */
  attributes?: { count: number; perItem: number };
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
  if (heads.attributes) {
    const { count, perItem } = heads.attributes;
    const V = config.vocabSize;
    shapes.push([ATTR_TABLE, [count, config.nEmbd]]);
    if (heads.itemBias) shapes.push([ATTR_BIAS, [count]]);
    shapes.push([ATTR_INDEX, [V * perItem]], [ATTR_WEIGHT, [V * perItem]], [ATTR_LEARNED, [V]]);
  }
  return shapes;
}

/** GPT-2 initialisation (model.ts) plus zero heads. */
export function initNextItem(config: GPT2Config, heads: HeadOptions, seed: number, into: Float32Array, layout: ParamLayout): void {
  const base = initParameters(config, seed);
  for (const [name, t] of base) layout.view(into, name).set(t.data);
  // Heads start at zero: the model begins as plain tied GPT-2.
  if (heads.cosineScale) layout.view(into, COSINE_SCALE)[0] = heads.cosineScale;
  if (heads.attributes) {
    const rng = new Rng(seed ^ 0xa77);
    const table = layout.view(into, ATTR_TABLE);
    for (let i = 0; i < table.length; i++) table[i] = rng.normal() * 0.02;
    // Until the catalog's data is set (setItemAttributes): no attributes, every embedding learned.
    layout.view(into, ATTR_LEARNED).fill(1);
  }
}

/** The catalog's attributes per token id (empty for tokens without any), and which tokens keep their learned embedding. */
export interface TokenAttributes {
  /** Distinct attribute ids, 0..count-1. */
  count: number;
  /** Per token id: its attribute ids. */
  byToken: ReadonlyArray<ArrayLike<number>>;
  /** Per token id: 1 to use its learned embedding, 0 for attributes only (items training never saw). */
  learned: Uint8Array;
}

/** The HeadOptions.attributes for these attributes: K = the most any token has (at least 1). */
export const attributeHeads = (attrs: TokenAttributes) => ({
  count: attrs.count,
  perItem: Math.max(1, ...attrs.byToken.map((a) => a.length)),
});

/** Writes the catalog's data (index, weight, learned) into the flat parameters. */
export function setItemAttributes(heads: HeadOptions, attrs: TokenAttributes, into: Float32Array, layout: ParamLayout): void {
  const spec = heads.attributes;
  if (!spec) throw new Error('setItemAttributes: the model has no attribute heads');
  const K = spec.perItem;
  const index = layout.view(into, ATTR_INDEX).fill(0);
  const weight = layout.view(into, ATTR_WEIGHT).fill(0);
  const learned = layout.view(into, ATTR_LEARNED);
  learned.set(attrs.learned);
  attrs.byToken.forEach((list, token) => {
    if (list.length > K) throw new Error(`token ${token} has ${list.length} attributes, the model takes ${K}`);
    for (let j = 0; j < list.length; j++) {
      const a = list[j]!;
      if (!(a >= 0 && a < spec.count)) throw new Error(`token ${token}: attribute ${a} is outside 0..${spec.count - 1}`);
      index[token * K + j] = a;
      weight[token * K + j] = 1 / list.length;
    }
  });
}

/** The item bias as the model uses it (ATTR_BIAS's b(c)): lm_head.bias itself without attribute heads; undefined without an item bias. */
export function composedItemBias(weights: TensorMap): Float32Array | undefined {
  const bias = weights.get(ITEM_BIAS);
  const attrBias = weights.get(ATTR_BIAS);
  if (!bias || !attrBias) return bias?.data;
  const V = bias.data.length;
  const index = weights.get(ATTR_INDEX)!.data;
  const weight = weights.get(ATTR_WEIGHT)!.data;
  const learned = weights.get(ATTR_LEARNED)!.data;
  const K = index.length / V;
  return Float32Array.from({ length: V }, (_, c) => {
    let b = learned[c] ? bias.data[c]! : 0;
    for (let j = 0; j < K; j++) b += weight[c * K + j]! * attrBias.data[index[c * K + j]!]!;
    return b;
  });
}

/**
 * The item table as the model uses it (ATTR_TABLE's e(c) for every token), from a model's
 * weights: wte itself when the model has no attribute heads.
 */
export function composedItemTable(weights: TensorMap): Float32Array {
  const wte = weights.get(ITEM_TABLE);
  if (!wte) throw new Error(`missing tensor ${ITEM_TABLE}`);
  const table = weights.get(ATTR_TABLE);
  if (!table) return wte.data;
  const [V, D] = wte.shape as [number, number];
  const index = weights.get(ATTR_INDEX)!.data;
  const weight = weights.get(ATTR_WEIGHT)!.data;
  const learned = weights.get(ATTR_LEARNED)!.data;
  const K = index.length / V;
  const out = new Float32Array(V * D);
  for (let c = 0; c < V; c++) {
    const row = c * D;
    if (learned[c]) for (let d = 0; d < D; d++) out[row + d] = wte.data[row + d]!;
    for (let j = 0; j < K; j++) {
      const w = weight[c * K + j]!;
      if (w === 0) continue;
      const a = index[c * K + j]! * D;
      for (let d = 0; d < D; d++) out[row + d] = out[row + d]! + w * table.data[a + d]!;
    }
  }
  return out;
}
