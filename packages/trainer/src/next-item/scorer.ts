/**
 * Full-vocabulary next-item scoring (every item ranked) with the heads of heads.ts: the
 * scores for evaluation and benchmarks, and the ranks of targets for their metrics.
 */
import * as tf from '@tensorflow/tfjs';
import { COSINE_SCALE, ITEM_BIAS, ITEM_TABLE as WTE, REPEAT_BIAS, REPEAT_WEIGHT } from '@hunch/core';
import { MetricAccumulator, type RankMetrics } from '../eval/metrics.js';
import { transformer, type GPT2Config } from '../model.js';
import type { TensorMap } from '../safetensors.js';
import { ATTR_TABLE, composedItemBias, composedItemTable, normalizeRows } from './heads.js';

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
  /** Called with every example's sequence index and 1-based rank (per-session metrics: paired comparisons). */
  onRank?: (sequence: number, rank: number) => void;
}

/** Scores and ranks every item after token prefixes. Holds the weights as tensors; call dispose() when done. */
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
    if (weights.has(ATTR_TABLE)) {
      // Attribute-composed item vectors (heads.ts): the table as the model uses it, once.
      this.tensors.get(WTE)!.dispose();
      this.tensors.set(WTE, tf.tensor(composedItemTable(weights), weights.get(WTE)!.shape, 'float32'));
      const bias = composedItemBias(weights);
      if (bias) {
        this.tensors.get(ITEM_BIAS)!.dispose();
        this.tensors.set(ITEM_BIAS, tf.tensor1d(bias));
      }
    }
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
      scores.dispose(); // [n, V] per call: leaked, a large test set fills the wasm heap
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
   * Full-ranking metrics at K (eval/metrics.ts) of next-item prediction over sessions
   * (token ids): every position t >= minPosition with a candidate target is an example.
   * For [BOS] + items, minPosition 1 is the SR-GNN protocol (prefixes of >= 1 item); for
   * bare item sequences, 0. Positions past the context use the last nPositions tokens.
   */
  evaluate(sessions: ReadonlyArray<ArrayLike<number>>, options: EvalOptions = {}): RankMetrics {
    const k = options.k ?? 20;
    const minPosition = options.minPosition ?? 1;
    const batchRows = options.batchRows ?? 512;
    const P = this.config.nPositions;
    // Work units: a row of tokens, positions in it, and the targets there.
    const units: Array<{ row: number[]; positions: number[]; targets: number[]; sequence: number }> = [];
    for (const [sequence, s] of sessions.entries()) {
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
      if (positions.length) units.push({ row: head, positions, targets, sequence });
      for (let t = Math.max(P, from); t < seq.length - 1; t++) {
        if (this.isItem[seq[t + 1]!]) units.push({ row: seq.slice(t + 1 - P, t + 1), positions: [P - 1], targets: [seq[t + 1]!], sequence });
      }
    }
    // Similar lengths together: less padding.
    units.sort((a, b) => a.row.length - b.row.length);
    const metrics = new MetricAccumulator([k]);
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
      for (const rank of ranks) metrics.add(rank + 1);
      if (options.onRank) {
        let r = 0;
        for (const unit of chunk) for (let j = 0; j < unit.targets.length; j++) options.onRank(unit.sequence, ranks[r++]! + 1);
      }
    }
    return metrics.at(k);
  }

  dispose(): void {
    tf.dispose([...this.tensors.values(), this.wteT, this.candidateBias, ...(this.augmentedCache ? [this.augmentedCache] : [])]);
  }
}
