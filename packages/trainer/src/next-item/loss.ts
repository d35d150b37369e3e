/**
 * The next-item training loss and its gradients, for one shard of a batch (the whole
 * batch, or one worker's share): plain data in, plain arrays out, the same in a worker
 * or in the main thread. Scores are those of heads.ts.
 *
 * Loss at every position (causal LM: every prefix is an example), for target y:
 *   -s(y) + log( exp s(y) + Σ_prefix items p≠y exp s(p) + Σ_k exp(s(n_k) - log(K q(n_k))) )
 * The prefix items are scored exactly, the rest of the vocabulary is estimated by K shared
 * negatives (negatives.ts) with the logQ correction; negatives equal to the target or in
 * the prefix are masked (they are already counted). With every candidate as a negative
 * and logQ = 0, this is the exact full softmax.
 *
 * Distillation (optional, `softTargets`): at a position with a teacher's soft targets p over
 * items c_1..c_k, the loss adds α Σ_j p_j (log Z - s(c_j)), log Z the estimate above and s
 * scoring the soft items as the target is scored (bias, repeat bonus when in the prefix): the
 * cross-entropy of the model's softmax against p, as train.py --distil computes it. Its part
 * Σ_j p_j h · e(c_j) is computed as h · (Σ_j p_j e(c_j)), the weighted sum of the soft items'
 * vectors at each position (wasm-weighted-rows.ts).
 *
 * Only the embedding rows a shard touches are sent to the gradient computation (gathered
 * in JS), so a 43k-item vocabulary costs what the batch uses, not V x D per step.
 */
import * as tf from '@tensorflow/tfjs';
import { COSINE_SCALE, ITEM_BIAS, ITEM_TABLE as WTE, REPEAT_BIAS, REPEAT_WEIGHT } from '@hunch/core';
import { hashSeed, Rng } from '../lib/prng.js';
import { gatherRows, matMul, swapLast, transformer, type GPT2Config } from '../model.js';
import { ATTR_BIAS, ATTR_FIXED, ATTR_INDEX, ATTR_LEARNED, ATTR_TABLE, ATTR_WEIGHT, normalizeRows } from './heads.js';
import type { ParamLayout } from './param-layout.js';
import { sampledSoftmaxLoss } from './sampled-softmax.js';
import { softTargetBlock, type SoftTargetTable } from './soft-target-block.js';
import { weightedRows } from '../wasm-weighted-rows.js';

/** What one gradient computation (a whole batch, or one worker's share) needs: plain data. */
export interface ShardInput {
  /** Token sequences ([BOS] first), each at most nPositions + 1 long. */
  rows: Int32Array[];
  /** Per-row dropout seeds (a function of step and the row's place in the whole batch). */
  rowSeeds: number[];
  /** Shared negatives [K] and their log(K q) corrections. */
  negatives: Int32Array;
  negativeLogKQ: Float32Array;
  /** Divide the summed loss by this (the number of targets in the whole batch). */
  normalizer: number;
  dropout: number;
  /**
   * Attribute-composed vectors only (heads.ts): this step, each item token's learned
   * embedding is left out with this probability (hashSeed(embeddingDropSeed, token) decides,
   * the same in every shard), so its attributes alone must score it, as they must for items
   * training never saw (DropoutNet's idea).
   */
  embeddingDrop?: { rate: number; seed: number };
  /**
   * Distillation: the term's weight α, the teacher's table (soft-targets.ts; SharedArrayBuffer-
   * backed, so posting it to a worker copies nothing) and, per row, the table row of its first
   * position (its position t is table row starts[b] + t). Absent: no term, the loss as without.
   */
  softTargets?: { weight: number; table: SoftTargetTable; starts: Int32Array };
}

export interface ShardOutput {
  /** Sum of the per-target losses of this shard (not divided). */
  lossSum: number;
  targets: number;
  /** Dense gradients of every parameter but wte and lm_head.bias, in layout order. */
  dense: Map<string, Float32Array>;
  /** The token ids whose embedding rows were used, and their gradients [U, D] and [U]. */
  rows: Int32Array;
  wteGrad: Float32Array;
  biasGrad?: Float32Array;
}

/**
 * Loss and gradients for one shard, given the flat parameters. Runs the same in a worker
 * or in the main thread. `isItem[id]` says which tokens are items (prefix candidates).
 */
export function shardGradients(
  config: GPT2Config,
  layout: ParamLayout,
  params: Float32Array,
  isItem: Uint8Array,
  input: ShardInput,
): ShardOutput {
  const { rows, negatives, negativeLogKQ, normalizer, dropout } = input;
  const B = rows.length;
  const T = Math.max(...rows.map((r) => r.length)) - 1;
  const N = B * T;
  const K = negatives.length;
  const D = config.nEmbd;
  const hasBias = layout.byName.has(ITEM_BIAS);
  const hasRepeat = layout.byName.has(REPEAT_WEIGHT);

  // Local ids: every token the batch touches gets a row in a small embedding table.
  const local = new Map<number, number>();
  const uniq: number[] = [];
  const localOf = (token: number) => {
    let l = local.get(token);
    if (l === undefined) {
      l = uniq.length;
      local.set(token, l);
      uniq.push(token);
    }
    return l;
  };
  const ids = new Int32Array(N);
  const targets = new Int32Array(N);
  const valid = new Float32Array(N);
  const targetInPrefix = new Float32Array(N);
  const prefixMask = new Float32Array(B * T * T).fill(-1e9);
  // Accidental hits as flat indices n * K + k into the [N, K] logits (hit-mask.ts), each once.
  const hits: number[] = [];
  const negLocal = new Int32Array(K);
  for (let k = 0; k < K; k++) negLocal[k] = localOf(negatives[k]!);
  // Negatives by token, to mask accidental hits.
  const negPositions = new Map<number, number[]>();
  for (let k = 0; k < K; k++) {
    const list = negPositions.get(negatives[k]!);
    if (list) list.push(k);
    else negPositions.set(negatives[k]!, [k]);
  }
  let targetCount = 0;
  const firstAts: Array<Map<number, number>> = [];
  for (let b = 0; b < B; b++) {
    const row = rows[b]!;
    const len = row.length - 1; // input positions
    const firstAt = new Map<number, number>();
    firstAts.push(firstAt);
    for (let t = 0; t < len; t++) {
      const token = row[t]!;
      ids[b * T + t] = localOf(token);
      if (isItem[token] && !firstAt.has(token)) {
        firstAt.set(token, t);
        // Negatives equal to a prefix item are already counted (with the repeat bonus) from t on.
        for (const k of negPositions.get(token) ?? []) for (let u = t; u < len; u++) hits.push((b * T + u) * K + k);
      }
    }
    for (let t = 0; t < len; t++) {
      const n = b * T + t;
      const y = row[t + 1]!;
      targets[n] = localOf(y);
      if (y === 0) continue;
      valid[n] = 1;
      targetCount++;
      const seenAt = firstAt.get(y);
      if (seenAt !== undefined && seenAt <= t) targetInPrefix[n] = 1;
      // A target seen in the prefix is masked there already.
      else for (const k of negPositions.get(y) ?? []) hits.push(n * K + k);
      // Prefix candidates: first occurrences at or before t, other than the target.
      for (let s = 0; s <= t; s++) {
        const token = row[s]!;
        if (isItem[token] && firstAt.get(token) === s && token !== y) prefixMask[(b * T + t) * T + s] = 0;
      }
    }
    // Padding positions: targets 0 (local id of token 0 is harmless), valid 0.
  }
  const soft = input.softTargets && softTargetBlock(rows, firstAts, input.softTargets, T, input.softTargets.weight / normalizer, localOf);
  const U = uniq.length;

  // Parameter tensors: trunk and heads from the flat array; wte / bias only for used rows.
  const wteFlat = layout.view(params, WTE);
  const wteRows = new Float32Array(U * D);
  for (let u = 0; u < U; u++) wteRows.set(wteFlat.subarray(uniq[u]! * D, uniq[u]! * D + D), u * D);
  // The cosine scale is a fixed setting, not a parameter: it stays out of the gradient.
  const cosineScale = layout.byName.has(COSINE_SCALE) ? layout.view(params, COSINE_SCALE)[0]! : 0;
  const denseNames = layout.entries.map((e) => e.name).filter((name) => name !== WTE && name !== ITEM_BIAS && name !== COSINE_SCALE && !ATTR_FIXED.has(name));
  // Attribute-composed item vectors (heads.ts): each used row's learned flag, attribute slots and weights.
  let attrInputs: { learned: tf.Tensor2D; index: tf.Tensor1D; weight: tf.Tensor3D; K: number } | undefined;
  if (layout.byName.has(ATTR_TABLE)) {
    const index = layout.view(params, ATTR_INDEX);
    const weight = layout.view(params, ATTR_WEIGHT);
    const learned = layout.view(params, ATTR_LEARNED);
    const K = index.length / config.vocabSize;
    const drop = input.embeddingDrop;
    const dropsEmbedding = (token: number) => drop !== undefined && drop.rate > 0 && isItem[token] === 1 && hashSeed(drop.seed, token) / 2 ** 32 < drop.rate;
    const idxU = new Int32Array(U * K);
    const wU = new Float32Array(U * K);
    for (let u = 0; u < U; u++) {
      for (let j = 0; j < K; j++) {
        idxU[u * K + j] = index[uniq[u]! * K + j]!;
        wU[u * K + j] = weight[uniq[u]! * K + j]!;
      }
    }
    attrInputs = {
      learned: tf.tensor2d(Float32Array.from(uniq, (token) => (dropsEmbedding(token) ? 0 : learned[token]!)), [U, 1]),
      index: tf.tensor1d(idxU, 'int32'),
      weight: tf.tensor3d(wU, [U, K, 1]),
      K,
    };
  }
  const inputs: tf.Tensor[] = denseNames.map((name) => tf.tensor(layout.view(params, name), layout.byName.get(name)!.shape, 'float32'));
  inputs.push(tf.tensor2d(wteRows, [U, D]));
  if (hasBias) {
    const biasFlat = layout.view(params, ITEM_BIAS);
    inputs.push(tf.tensor1d(Float32Array.from(uniq, (token) => biasFlat[token]!)));
  }

  const idsT = tf.tensor1d(ids, 'int32');
  const targetsT = tf.tensor1d(targets, 'int32');
  const negT = tf.tensor1d(negLocal, 'int32');
  const weightT = tf.tensor1d(valid.map((v) => v / normalizer));
  const inPrefixT = tf.tensor2d(targetInPrefix, [N, 1]);
  const prefixMaskT = tf.tensor3d(prefixMask, [B, T, T]);
  const hitsT = tf.tensor1d(hits, 'int32');
  const logKQT = tf.tensor1d(negativeLogKQ);
  const softT = soft && {
    position: tf.tensor1d(soft.position, 'int32'),
    item: tf.tensor1d(soft.item, 'int32'),
    weight: tf.tensor1d(soft.weight),
    itemWeight: tf.tensor1d(soft.itemWeight(U)),
    logZWeight: tf.tensor1d(soft.logZWeight),
    bonusWeight: tf.tensor2d(soft.bonusWeight, [N, 1]),
  };
  const sites = 1 + 2 * config.nLayer;
  // One [N, D] mask per site (slicing one big tensor would copy each).
  let dropMasks: tf.Tensor[] | undefined;
  if (dropout > 0) {
    // Per-row masks from per-row seeds, laid out by (position, site, dim): a row's mask does
    // not depend on how the batch is padded or split between workers.
    const data = new Float32Array(sites * N * D).fill(1);
    const keep = 1 / (1 - dropout);
    for (let b = 0; b < B; b++) {
      const rng = new Rng(input.rowSeeds[b]!);
      const len = rows[b]!.length - 1;
      for (let t = 0; t < len; t++) {
        for (let s = 0; s < sites; s++) {
          const base = (s * N + b * T + t) * D;
          for (let d = 0; d < D; d++) data[base + d] = rng.next() < dropout ? 0 : keep;
        }
      }
    }
    dropMasks = Array.from({ length: sites }, (_, s) => tf.tensor2d(data.subarray(s * N * D, (s + 1) * N * D), [N, D]));
  }

  const lossFn = (...xs: tf.Tensor[]): tf.Scalar => {
    const byName = new Map<string, tf.Tensor>();
    denseNames.forEach((name, i) => byName.set(name, xs[i]!));
    const p = (name: string) => byName.get(name)!;
    let rowsU = xs[denseNames.length]!;
    if (attrInputs) {
      const { learned, index, weight, K } = attrInputs;
      const attrMean = gatherRows(p(ATTR_TABLE), index).reshape([U, K, D]).mul(weight).sum(1); // [U, D]
      rowsU = rowsU.mul(learned).add(attrMean);
    }
    const wte = cosineScale ? normalizeRows(rowsU) : rowsU;
    let bias = hasBias ? xs[denseNames.length + 1]! : undefined;
    if (bias && attrInputs && byName.has(ATTR_BIAS)) {
      const { learned, index, weight, K } = attrInputs;
      const attrBias = gatherRows(p(ATTR_BIAS).reshape([-1, 1]), index).reshape([U, K, 1]).mul(weight).sum(1); // [U, 1]
      bias = bias.reshape([U, 1]).mul(learned).add(attrBias).reshape([U]);
    }
    const emb = gatherRows(wte, idsT); // [N, D]
    const drop = dropMasks ? (x: tf.Tensor, site: number) => x.mul(dropMasks![site]!) : undefined;
    const hidden = transformer(p, config, emb, B, T, undefined, drop); // [N, D]
    const bonus = hasRepeat ? tf.matMul(hidden, p(REPEAT_WEIGHT).reshape([D, 1])).add(p(REPEAT_BIAS)) : undefined; // [N, 1]
    const h = cosineScale ? normalizeRows(hidden).mul(cosineScale) : hidden;

    let target = h.mul(gatherRows(wte, targetsT)).sum(1, true); // [N, 1]
    let prefix = matMul(h.reshape([B, T, D]), swapLast(emb.reshape([B, T, D]))); // [B, T, T]
    // Shared negatives with their bias and -log(K q) folded into one matmul: [h, 1] @ [e_k, b_k - log K q_k]ᵀ.
    let negTable = gatherRows(wte, negT); // [K, D]
    let negColumn: tf.Tensor = logKQT.reshape([K, 1]).neg();
    if (bias) {
      const rowBias = gatherRows(bias.reshape([U, 1]), targetsT); // [N, 1]
      target = target.add(rowBias);
      negColumn = negColumn.add(gatherRows(bias.reshape([U, 1]), negT));
      prefix = prefix.add(gatherRows(bias.reshape([U, 1]), idsT).reshape([B, 1, T]));
    }
    negTable = tf.concat([negTable, negColumn], 1) as tf.Tensor2D;
    const shared = matMul(tf.concat([h, tf.ones([N, 1])], 1), tf.transpose(negTable)) as tf.Tensor2D; // [N, K]
    if (bonus) {
      target = target.add(bonus.mul(inPrefixT));
      prefix = prefix.add(bonus.reshape([B, T, 1]));
    }
    prefix = prefix.add(prefixMaskT).reshape([N, T]);
    const extra = tf.concat([target, prefix], 1) as tf.Tensor2D; // [N, 1 + T]: the target first
    if (!softT) return sampledSoftmaxLoss(shared, extra, hitsT, weightT);
    // Distillation: α p log Z through the softmax's own log Z, less α Σ p s(c) here, where
    // Σ_j p_j h[n] · e(c_j) = h[n] · (Σ_j p_j e(c_j)): the pairs' weighted rows, summed a position.
    const pulled = weightedRows(wte as tf.Tensor2D, softT.item, softT.position, softT.weight, N); // [N, D]
    let softScore = h.mul(pulled).sum();
    if (bias) softScore = softScore.add(bias.mul(softT.itemWeight).sum());
    if (bonus) softScore = softScore.add(bonus.mul(softT.bonusWeight).sum());
    return sampledSoftmaxLoss(shared, extra, hitsT, weightT, softT.logZWeight).sub(softScore) as tf.Scalar;
  };

  const { value, grads } = tf.valueAndGrads(lossFn)(inputs);
  const lossSum = value.dataSync()[0]! * normalizer;
  const dense = new Map<string, Float32Array>();
  denseNames.forEach((name, i) => dense.set(name, grads[i]!.dataSync() as Float32Array));
  const wteGrad = grads[denseNames.length]!.dataSync() as Float32Array;
  const biasGrad = hasBias ? (grads[denseNames.length + 1]!.dataSync() as Float32Array) : undefined;
  if (attrInputs) tf.dispose([attrInputs.learned, attrInputs.index, attrInputs.weight]);
  if (softT) tf.dispose(Object.values(softT));
  tf.dispose([value, ...grads, ...inputs, idsT, targetsT, negT, weightT, inPrefixT, prefixMaskT, hitsT, logKQT, ...(dropMasks ?? [])]);
  return { lossSum, targets: targetCount, dense, rows: Int32Array.from(uniq), wteGrad, ...(biasGrad ? { biasGrad } : {}) };
}

/** Adds a shard's gradients into the flat gradient array. */
export function accumulate(layout: ParamLayout, into: Float32Array, out: ShardOutput, D: number): void {
  for (const [name, g] of out.dense) {
    const view = layout.view(into, name);
    for (let i = 0; i < g.length; i++) view[i] = view[i]! + g[i]!;
  }
  const wte = layout.view(into, WTE);
  for (let u = 0; u < out.rows.length; u++) {
    const base = out.rows[u]! * D;
    for (let d = 0; d < D; d++) wte[base + d] = wte[base + d]! + out.wteGrad[u * D + d]!;
  }
  if (out.biasGrad) {
    const bias = layout.view(into, ITEM_BIAS);
    for (let u = 0; u < out.rows.length; u++) bias[out.rows[u]!] = bias[out.rows[u]!]! + out.biasGrad[u]!;
  }
}

/** Zeroes what `accumulate` wrote for shards that used `rows` (each shard's): the dense gradients and those rows. */
export function clearGradients(layout: ParamLayout, grads: Float32Array, rows: Int32Array[], D: number): void {
  for (const { name, offset, size } of layout.entries) {
    if (name === WTE || name === ITEM_BIAS) {
      const width = name === WTE ? D : 1;
      for (const r of rows) for (let u = 0; u < r.length; u++) grads.fill(0, offset + r[u]! * width, offset + r[u]! * width + width);
    } else grads.fill(0, offset, offset + size);
  }
}

/**
 * Σ g² over the flat gradient `grads`, zeroed and then written by `accumulate` only: the
 * same double-precision sum, in the same order, as a pass over every element, but over the
 * wte rows and item biases the shards touched (`rows`, each shard's) and the dense
 * parameters; the rows no shard touched add exact zeros.
 */
export function gradientSquares(layout: ParamLayout, grads: Float32Array, rows: Int32Array[], D: number): number {
  const vocab = layout.byName.get(WTE)!.size / D;
  const touched = new Uint8Array(vocab);
  for (const r of rows) for (let u = 0; u < r.length; u++) touched[r[u]!] = 1;
  let sq = 0;
  for (const { name, offset, size } of layout.entries) {
    if (name === WTE || name === ITEM_BIAS) {
      const width = name === WTE ? D : 1;
      for (let row = 0; row < vocab; row++) {
        if (!touched[row]) continue;
        for (let i = offset + row * width, end = i + width; i < end; i++) sq += grads[i]! * grads[i]!;
      }
    } else {
      for (let i = offset, end = offset + size; i < end; i++) sq += grads[i]! * grads[i]!;
    }
  }
  return sq;
}

/** Per-row dropout seed: depends on the seed, the step and the row's index in the batch only. */
export const rowSeed = (seed: number, step: number, row: number) => hashSeed(seed, step, row, 0xd50);
