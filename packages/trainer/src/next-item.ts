/**
 * The next-item model: GPT-2 (model.ts) plus two small heads, trained with sampled
 * softmax and scored by full ranking.
 *
 * Score of candidate item c after a prefix whose last hidden state is h:
 *   s(c) = h · wte[c] + lm_head.bias[c] + [c in prefix] * (h · hunch.repeat.weight + hunch.repeat.bias)
 * - `lm_head.bias` [V]: an item-popularity bias (HF GPT-2 has no LM-head bias; an exporter
 *   adds it to the logits).
 * - `hunch.repeat.weight` [D], `hunch.repeat.bias` [1]: a learned, context-dependent bonus
 *   for items already in the prefix (repeat clicks are common in session data).
 *
 * Training loss at every position (causal LM: every prefix is an example), for target y:
 *   -s(y) + log( exp s(y) + Σ_prefix items p≠y exp s(p) + Σ_k exp(s(n_k) - log(K q(n_k))) )
 * The prefix items are scored exactly, the rest of the vocabulary is estimated by K shared
 * negatives drawn from q ∝ (count+1)^0.75 with the logQ correction; negatives equal to the
 * target or in the prefix are masked (they are already counted). With `negatives` = 0 the
 * whole vocabulary is the negative set (logQ = 0): exact full softmax.
 *
 * Only the embedding rows a batch touches are sent to the gradient computation (gathered
 * in JS), so a 43k-item vocabulary costs what the batch uses, not V x D per step.
 *
 * Cosine scoring (when `hunch.cosine.scale` [1] is present, a fixed τ): every embedding
 * row is L2-normalised before use (as input and as output), and h · e becomes
 * τ · (h / |h|) · e, as in NISER and CORE. Scores then live in [-τ, τ]: popular items
 * cannot win by growing their norms, the long tail is ranked fairly, and the softmax
 * temperature is set rather than learned by inflating weights.
 */
import * as tf from '@tensorflow/tfjs';
import { COSINE_SCALE, ITEM_BIAS, ITEM_TABLE as WTE, REPEAT_BIAS, REPEAT_WEIGHT } from '@hunch/core';
import { Rng } from './lib/prng.js';
import { gatherRows, initParameters, matMul, parameterShapes, swapLast, transformer, type GPT2Config } from './model.js';
import { sampledSoftmaxLoss } from './sampled-softmax.js';
import type { TensorMap } from './safetensors.js';
import { hashSeed, type Segment } from './schedule.js';

/** The heads' tensor names are the model contract's (core model-contract.ts): the exporter and the browser read them too. */
export { COSINE_SCALE, ITEM_BIAS, REPEAT_BIAS, REPEAT_WEIGHT };

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

/** Where each parameter lives in one flat Float32Array. */
export class ParamLayout {
  readonly entries: Array<{ name: string; shape: number[]; offset: number; size: number }> = [];
  readonly byName = new Map<string, { name: string; shape: number[]; offset: number; size: number }>();
  readonly size: number;

  constructor(readonly shapes: Array<[string, number[]]>) {
    let offset = 0;
    for (const [name, shape] of shapes) {
      const size = shape.reduce((n, d) => n * d, 1);
      const entry = { name, shape, offset, size };
      this.entries.push(entry);
      this.byName.set(name, entry);
      offset += size;
    }
    this.size = offset;
  }

  view(flat: Float32Array, name: string): Float32Array {
    const e = this.byName.get(name);
    if (!e) throw new Error(`no parameter ${name}`);
    return flat.subarray(e.offset, e.offset + e.size);
  }

  /** Weight decay on matrices (rank >= 2) only, as nanoGPT. */
  segments(): Segment[] {
    return this.entries.map(({ offset, size, shape }) => ({ offset, size, decay: shape.length >= 2 }));
  }

  toTensorMap(flat: Float32Array): TensorMap {
    const out: TensorMap = new Map();
    for (const { name, shape } of this.entries) out.set(name, { shape, data: Float32Array.from(this.view(flat, name)) });
    return out;
  }

  fromTensorMap(weights: TensorMap, into: Float32Array): void {
    for (const { name, shape } of this.entries) {
      const t = weights.get(name);
      if (!t || t.shape.join(',') !== shape.join(',')) throw new Error(`weights lack ${name} [${shape.join(', ')}]`);
      this.view(into, name).set(t.data);
    }
  }
}

/** GPT-2 initialisation (model.ts) plus zero heads. */
export function initNextItem(config: GPT2Config, heads: HeadOptions, seed: number, into: Float32Array, layout: ParamLayout): void {
  const base = initParameters(config, seed);
  for (const [name, t] of base) layout.view(into, name).set(t.data);
  // Heads start at zero: the model begins as plain tied GPT-2.
  if (heads.cosineScale) layout.view(into, COSINE_SCALE)[0] = heads.cosineScale;
}

/** Draws from a discrete distribution in O(1) (Walker's alias method). */
export class AliasSampler {
  readonly prob: Float32Array;
  readonly alias: Int32Array;
  /** log q(i) for every outcome. */
  readonly logQ: Float32Array;

  constructor(weights: ArrayLike<number>) {
    const n = weights.length;
    let total = 0;
    for (let i = 0; i < n; i++) total += weights[i]!;
    this.prob = new Float32Array(n);
    this.alias = new Int32Array(n);
    this.logQ = new Float32Array(n);
    const scaled = new Float64Array(n);
    const small: number[] = [];
    const large: number[] = [];
    for (let i = 0; i < n; i++) {
      const q = weights[i]! / total;
      this.logQ[i] = q > 0 ? Math.log(q) : -Infinity;
      scaled[i] = q * n;
      (scaled[i]! < 1 ? small : large).push(i);
    }
    while (small.length && large.length) {
      const s = small.pop()!;
      const l = large.pop()!;
      this.prob[s] = scaled[s]!;
      this.alias[s] = l;
      scaled[l] = scaled[l]! + scaled[s]! - 1;
      (scaled[l]! < 1 ? small : large).push(l);
    }
    for (const i of [...small, ...large]) this.prob[i] = 1;
  }

  sample(rng: Rng, k: number): Int32Array {
    const out = new Int32Array(k);
    const n = this.prob.length;
    for (let j = 0; j < k; j++) {
      const i = Math.floor(rng.next() * n);
      out[j] = rng.next() < this.prob[i]! ? i : this.alias[i]!;
    }
    return out;
  }
}

/** Negative-sampling weights (count+1)^power for candidate tokens, 0 for the rest. */
export function negativeWeights(counts: ArrayLike<number>, isItem: Uint8Array, power = 0.75): Float64Array {
  const w = new Float64Array(counts.length);
  for (let i = 0; i < counts.length; i++) w[i] = isItem[i] ? (counts[i]! + 1) ** power : 0;
  return w;
}

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
  const negativeMask = new Float32Array(N * K);
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
  for (let b = 0; b < B; b++) {
    const row = rows[b]!;
    const len = row.length - 1; // input positions
    const firstAt = new Map<number, number>();
    for (let t = 0; t < len; t++) {
      const token = row[t]!;
      ids[b * T + t] = localOf(token);
      if (isItem[token] && !firstAt.has(token)) {
        firstAt.set(token, t);
        // Negatives equal to a prefix item are already counted (with the repeat bonus) from t on.
        for (const k of negPositions.get(token) ?? []) for (let u = t; u < len; u++) negativeMask[(b * T + u) * K + k] = -1e9;
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
      for (const k of negPositions.get(y) ?? []) negativeMask[n * K + k] = -1e9;
      // Prefix candidates: first occurrences at or before t, other than the target.
      for (let s = 0; s <= t; s++) {
        const token = row[s]!;
        if (isItem[token] && firstAt.get(token) === s && token !== y) prefixMask[(b * T + t) * T + s] = 0;
      }
    }
    // Padding positions: targets 0 (local id of token 0 is harmless), valid 0.
  }
  const U = uniq.length;

  // Parameter tensors: trunk and heads from the flat array; wte / bias only for used rows.
  const wteFlat = layout.view(params, WTE);
  const wteRows = new Float32Array(U * D);
  for (let u = 0; u < U; u++) wteRows.set(wteFlat.subarray(uniq[u]! * D, uniq[u]! * D + D), u * D);
  // The cosine scale is a fixed setting, not a parameter: it stays out of the gradient.
  const cosineScale = layout.byName.has(COSINE_SCALE) ? layout.view(params, COSINE_SCALE)[0]! : 0;
  const denseNames = layout.entries.map((e) => e.name).filter((name) => name !== WTE && name !== ITEM_BIAS && name !== COSINE_SCALE);
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
  const negMaskT = tf.tensor2d(negativeMask, [N, K]);
  const logKQT = tf.tensor1d(negativeLogKQ);
  const sites = 1 + 2 * config.nLayer;
  let dropMasks: tf.Tensor | undefined;
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
    dropMasks = tf.tensor3d(data, [sites, N, D]);
  }

  const lossFn = (...xs: tf.Tensor[]): tf.Scalar => {
    const byName = new Map<string, tf.Tensor>();
    denseNames.forEach((name, i) => byName.set(name, xs[i]!));
    const wte = cosineScale ? normalizeRows(xs[denseNames.length]!) : xs[denseNames.length]!;
    const bias = hasBias ? xs[denseNames.length + 1]! : undefined;
    const p = (name: string) => byName.get(name)!;
    const emb = gatherRows(wte, idsT); // [N, D]
    const drop = dropMasks ? (x: tf.Tensor, site: number) => x.mul(dropMasks!.slice([site, 0, 0], [1, N, D]).reshape([N, D])) : undefined;
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
    return sampledSoftmaxLoss(shared, extra, negMaskT, weightT);
  };

  const { value, grads } = tf.valueAndGrads(lossFn)(inputs);
  const lossSum = value.dataSync()[0]! * normalizer;
  const dense = new Map<string, Float32Array>();
  denseNames.forEach((name, i) => dense.set(name, grads[i]!.dataSync() as Float32Array));
  const wteGrad = grads[denseNames.length]!.dataSync() as Float32Array;
  const biasGrad = hasBias ? (grads[denseNames.length + 1]!.dataSync() as Float32Array) : undefined;
  tf.dispose([value, ...grads, ...inputs, idsT, targetsT, negT, weightT, inPrefixT, prefixMaskT, negMaskT, logKQT, ...(dropMasks ? [dropMasks] : [])]);
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

export interface EvalOptions {
  /** Cut-off K (default 20). */
  k?: number;
  /** First input position scored: 1 with [BOS] first (default), 0 for bare item sequences. */
  minPosition?: number;
  /** Positions scored per batch (default 512). */
  batchRows?: number;
  /** Score only each sequence's last target (leave-one-out). */
  lastOnly?: boolean;
  /** Mask the sequence's own earlier items (they never outrank the target). */
  excludeSeen?: boolean;
}

/** HR@K (= P@K = Recall@K with one target), MRR@K and NDCG@K over `examples` targets. */
export interface RankMetrics {
  hit: number;
  mrr: number;
  ndcg: number;
  examples: number;
}

/** Combines metrics of disjoint example sets. */
export function mergeMetrics(parts: RankMetrics[]): RankMetrics {
  const examples = parts.reduce((n, p) => n + p.examples, 0);
  const mean = (key: 'hit' | 'mrr' | 'ndcg') => (examples ? parts.reduce((s, p) => s + (p.examples ? p[key] * p.examples : 0), 0) / examples : NaN);
  return { hit: mean('hit'), mrr: mean('mrr'), ndcg: mean('ndcg'), examples };
}

/** Per-row dropout seed: depends on the seed, the step and the row's index in the batch only. */
export const rowSeed = (seed: number, step: number, row: number) => hashSeed(seed, step, row, 0xd50);

/**
 * Full-vocabulary next-item scoring for evaluation and benchmarks (all items ranked).
 * Holds the weights as tensors; call dispose() when done.
 */
export class NextItemScorer {
  private readonly tensors = new Map<string, tf.Tensor>();
  private readonly wteT: tf.Tensor2D;
  /** 0 for candidate tokens, -1e9 for the rest (specials, non-items). */
  private readonly candidateBias: tf.Tensor2D;
  /** τ of cosine scoring; 0 for dot-product scoring. */
  private readonly cosineScale: number = 0;

  constructor(
    readonly config: GPT2Config,
    weights: TensorMap,
    readonly isItem: Uint8Array,
  ) {
    for (const [name, t] of weights) this.tensors.set(name, tf.tensor(t.data, t.shape, 'float32'));
    const scale = weights.get(COSINE_SCALE)?.data[0];
    if (scale) {
      // Cosine scoring: normalise the table once; hidden states are scaled per query.
      const raw = this.tensors.get(WTE)!;
      this.tensors.set(WTE, tf.tidy(() => normalizeRows(raw)));
      raw.dispose();
      this.cosineScale = scale;
    }
    const wte = this.tensors.get(WTE)!;
    this.wteT = tf.transpose(wte) as tf.Tensor2D;
    this.candidateBias = tf.tensor2d(Float32Array.from(isItem, (x) => (x ? 0 : -1e9)), [1, config.vocabSize]);
  }

  /**
   * Scores [n, V] of the next token after each prefix (token ids, [BOS] first; the last
   * nPositions tokens are used). Non-candidates get about -1e9.
   */
  scorePrefixes(prefixes: ReadonlyArray<ArrayLike<number>>): Float32Array {
    const P = this.config.nPositions;
    const rows = prefixes.map((p) => Array.from(p).slice(-P));
    const scores = this.scoreAt(rows, rows.map((r) => [r.length - 1]));
    try {
      return scores.dataSync() as Float32Array;
    } finally {
      scores.dispose(); // [n, V] per call: leaking it exhausted the wasm heap on Diginetica's 60k examples
    }
  }

  /**
   * Scores [sum of positions, V] (as a tensor) at chosen input positions of each row:
   * the score row for (row r, position t) predicts row r's token t + 1.
   */
  scoreAt(rows: number[][], positions: number[][]): tf.Tensor2D {
    return tf.tidy(() => {
      const D = this.config.nEmbd;
      const V = this.config.vocabSize;
      const p = (name: string) => this.tensors.get(name)!;
      const { h, T } = this.hidden(rows);
      const pick: number[] = [];
      const bonusIdx: number[] = [];
      const bonusRow: number[] = [];
      positions.forEach((ts, b) => {
        for (const t of ts) {
          const row = pick.length;
          pick.push(b * T + t);
          const seen = new Set<number>();
          for (let s = 0; s <= t; s++) {
            const token = rows[b]![s]!;
            if (this.isItem[token] && !seen.has(token)) {
              seen.add(token);
              bonusIdx.push(row, token);
              bonusRow.push(row);
            }
          }
        }
      });
      const hp = tf.gather(h, tf.tensor1d(pick, 'int32')) as tf.Tensor2D; // [M, D]
      const M = pick.length;
      let scores: tf.Tensor = tf.matMul(tf.concat([this.query(hp), tf.ones([M, 1])], 1), this.augmentedTable());
      if (this.tensors.has(REPEAT_WEIGHT) && bonusRow.length > 0) {
        const bonus = tf.matMul(hp, p(REPEAT_WEIGHT).reshape([D, 1])).add(p(REPEAT_BIAS)).reshape([M]);
        const values = tf.gather(bonus, tf.tensor1d(bonusRow, 'int32'));
        scores = scores.add(tf.scatterND(tf.tensor2d(bonusIdx, [bonusRow.length, 2], 'int32'), values, [M, V]));
      }
      return scores as tf.Tensor2D;
    });
  }

  /**
   * Ranks (0 = best) of `targets` among all candidates, for positions of rows as in
   * scoreAt. Only "how many score above the target" is computed on the [M, V] block; the
   * repeat bonus of the few prefix items is corrected for in JS.
   */
  rankTargets(rows: number[][], positions: number[][], targets: number[], excludeSeen = false): Int32Array {
    const hasRepeat = this.tensors.has(REPEAT_WEIGHT);
    return tf.tidy(() => {
      const D = this.config.nEmbd;
      const p = (name: string) => this.tensors.get(name)!;
      const { h, T } = this.hidden(rows);
      const pick: number[] = [];
      const prefixes: number[][] = [];
      positions.forEach((ts, b) => {
        for (const t of ts) {
          pick.push(b * T + t);
          const seen = new Set<number>();
          for (let s = 0; s <= t; s++) if (this.isItem[rows[b]![s]!]) seen.add(rows[b]![s]!);
          prefixes.push([...seen]);
        }
      });
      const M = pick.length;
      const hp = tf.gather(h, tf.tensor1d(pick, 'int32')) as tf.Tensor2D;
      // [M, V] scores without the repeat bonus; the bias rides in the matmul as an extra
      // input column (a broadcast add over [M, V] is slow on wasm).
      const base = tf.matMul(tf.concat([this.query(hp), tf.ones([M, 1])], 1), this.augmentedTable());
      const bonus = hasRepeat ? (tf.matMul(hp, p(REPEAT_WEIGHT).reshape([D, 1])).add(p(REPEAT_BIAS)).dataSync() as Float32Array) : new Float32Array(M);
      // Base scores of the targets and of every prefix item.
      const pairs: number[] = [];
      targets.forEach((y, m) => pairs.push(m, y));
      prefixes.forEach((items, m) => items.forEach((c) => pairs.push(m, c)));
      const picked = tf.gatherND(base, tf.tensor2d(pairs, [pairs.length / 2, 2], 'int32')).dataSync() as Float32Array;
      const targetScore = new Float32Array(M);
      targets.forEach((y, m) => (targetScore[m] = Math.fround(picked[m]! + (hasRepeat && prefixes[m]!.includes(y) ? bonus[m]! : 0))));
      // How many score above the target: step(x - t) summed (tf.greater is ~50x slower on wasm).
      const above = tf.step(base.sub(tf.tensor2d(targetScore, [M, 1]))).sum(1).dataSync() as Float32Array;
      const ranks = Int32Array.from(above);
      if (hasRepeat || excludeSeen) {
        let o = M;
        prefixes.forEach((items, m) => {
          for (let j = 0; j < items.length; j++) {
            const s = picked[o++]!;
            // The target never outranks itself; masked history never outranks the target.
            // Math.fround: the score with the bonus in float32, as the dense scores have it.
            const counts = items[j] !== targets[m] && !excludeSeen;
            ranks[m] = ranks[m]! - (s > targetScore[m]! ? 1 : 0) + (counts && Math.fround(s + bonus[m]!) > targetScore[m]! ? 1 : 0);
          }
        });
      }
      return ranks;
    });
  }

  /** Final hidden states [B * T, D] of right-padded rows (call inside tf.tidy), and the padded length T. */
  private hidden(rows: number[][]): { h: tf.Tensor; T: number } {
    const B = rows.length;
    const T = Math.max(...rows.map((r) => r.length));
    const ids = new Int32Array(B * T);
    rows.forEach((r, b) => ids.set(r, b * T));
    const p = (name: string) => this.tensors.get(name)!;
    return { h: transformer(p, this.config, tf.gather(p(WTE), tf.tensor1d(ids, 'int32')), B, T), T };
  }

  /** The hidden states as they meet the item table: as is, or τ-scaled unit vectors. */
  private query(hp: tf.Tensor2D): tf.Tensor2D {
    return this.cosineScale ? (normalizeRows(hp).mul(this.cosineScale) as tf.Tensor2D) : hp;
  }

  private augmentedCache?: tf.Tensor2D;
  /** [wteᵀ; lm_head.bias (or 0) - 1e9 on non-candidates], [D + 1, V]. */
  private augmentedTable(): tf.Tensor2D {
    if (!this.augmentedCache) {
      const V = this.config.vocabSize;
      const bias = this.tensors.get(ITEM_BIAS);
      const row = bias ? bias.reshape([1, V]).add(this.candidateBias) : this.candidateBias;
      this.augmentedCache = tf.keep(tf.concat([this.wteT, row], 0)) as tf.Tensor2D;
    }
    return this.augmentedCache;
  }

  /**
   * Full-ranking metrics of next-item prediction over sessions (token ids): every
   * position t >= minPosition with a candidate target is an example. For [BOS] + items,
   * minPosition 1 is the SR-GNN protocol (prefixes of >= 1 item); for bare item
   * sequences, 0. Positions past the context use the last nPositions tokens.
   */
  evaluate(sessions: ReadonlyArray<ArrayLike<number>>, options: EvalOptions = {}): RankMetrics {
    const k = options.k ?? 20;
    const minPosition = options.minPosition ?? 1;
    const batchRows = options.batchRows ?? 512;
    const P = this.config.nPositions;
    // Work units: a row of tokens, positions in it, and the targets there.
    const units: Array<{ row: number[]; positions: number[]; targets: number[] }> = [];
    for (const s of sessions) {
      const seq = Array.from(s);
      const head = seq.slice(0, P);
      const positions: number[] = [];
      const targets: number[] = [];
      const from = options.lastOnly ? Math.max(minPosition, seq.length - 2) : minPosition;
      for (let t = from; t < Math.min(seq.length - 1, P); t++) {
        if (this.isItem[seq[t + 1]!]) {
          positions.push(t);
          targets.push(seq[t + 1]!);
        }
      }
      if (positions.length) units.push({ row: head, positions, targets });
      for (let t = Math.max(P, from); t < seq.length - 1; t++) {
        if (this.isItem[seq[t + 1]!]) units.push({ row: seq.slice(t + 1 - P, t + 1), positions: [P - 1], targets: [seq[t + 1]!] });
      }
    }
    // Similar lengths together: less padding.
    units.sort((a, b) => a.row.length - b.row.length);
    let hits = 0;
    let rr = 0;
    let dcg = 0;
    let examples = 0;
    let i = 0;
    while (i < units.length) {
      const chunk: typeof units = [];
      let count = 0;
      while (i < units.length && count < batchRows) {
        chunk.push(units[i]!);
        count += units[i]!.positions.length;
        i++;
      }
      const targets = chunk.flatMap((u) => u.targets);
      const ranks = this.rankTargets(chunk.map((u) => u.row), chunk.map((u) => u.positions), targets, options.excludeSeen);
      for (const rank of ranks) {
        if (rank < k) {
          hits++;
          rr += 1 / (rank + 1);
          dcg += 1 / Math.log2(rank + 2);
        }
      }
      examples += targets.length;
    }
    return { hit: examples ? hits / examples : NaN, mrr: examples ? rr / examples : NaN, ndcg: examples ? dcg / examples : NaN, examples };
  }

  dispose(): void {
    tf.dispose([...this.tensors.values(), this.wteT, this.candidateBias, ...(this.augmentedCache ? [this.augmentedCache] : [])]);
  }
}
