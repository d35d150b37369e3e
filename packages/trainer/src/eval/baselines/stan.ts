/**
 * STAN, sequence- and time-aware neighbourhood (Garg et al., SIGIR 2019): session-kNN
 * (sknn.ts) with the order of items counted twice.
 * - In the prefix, an item seen d items before the end weighs exp(−d/λ1) · idf in the similarity
 *   Σ shared weights / sqrt(|prefix|·|session|), so the latest and rarest views choose the neighbours.
 * - In a neighbour, an item k places away from the last item it shares with the prefix adds
 *   similarity · exp(−k/λ3), so what came right around the shopper's latest view counts most.
 * Candidates are the `sampleSize` most recent sessions sharing an item, as in sknn (the
 * paper's time decay λ2 is left to that sample: the files are ordered by date, not timed).
 * Distances count distinct items. The defaults were chosen on the validation splits of
 * diginetica and amazon-beauty (BENCHMARKS.md), the same for both.
 */
import type { SequenceSet } from '../../data/sequence-set.js';
import type { Recommender } from '../metrics.js';
import { ScoreBuffers, SparseSums } from './score-buffers.js';
import { SessionIndex } from './session-index.js';

export interface StanOptions {
  /** Candidate sessions: the most recent ones sharing an item. Default 500. */
  sampleSize?: number;
  /** Neighbours used for scoring. Default 200. */
  k?: number;
  /** λ1: decay of prefix items by their distance from its end, in items. Default 2. */
  prefixDecay?: number;
  /** λ3: decay of a neighbour's items by their distance from its last shared item, in items. Default 4. */
  neighbourDecay?: number;
  /** Weigh each shared item by its idf, log(sessions / sessions holding it), too (V-STAN, Ludewig et al. 2021). Default true. */
  idf?: boolean;
}

export class StanRecommender implements Recommender {
  readonly name = 'stan';
  readonly sampleSize: number;
  readonly k: number;
  readonly prefixDecay: number;
  readonly neighbourDecay: number;
  readonly idf: boolean;
  private readonly index: SessionIndex;
  private readonly buffers: ScoreBuffers;
  private readonly sparse: SparseSums;

  constructor(train: SequenceSet, numItems: number, options: StanOptions = {}) {
    this.sampleSize = options.sampleSize ?? 500;
    this.k = options.k ?? 200;
    this.prefixDecay = options.prefixDecay ?? 2;
    this.neighbourDecay = options.neighbourDecay ?? 4;
    this.idf = options.idf ?? true;
    this.index = new SessionIndex(train, numItems);
    this.buffers = new ScoreBuffers(numItems);
    this.sparse = new SparseSums(numItems);
  }

  score(prefixes: readonly Int32Array[]): Float32Array[] {
    const out = this.buffers.take(prefixes.length);
    prefixes.forEach((prefix, p) => {
      const scores = out[p]!;
      this.scoreNeighbours(prefix, -1, (item, value) => (scores[item]! += value));
    });
    return out;
  }

  /**
   * The items the neighbours of `prefix` score and their scores, unordered (the scores `score`
   * gives them; every other item scores 0), with training session `exclude` left out of the
   * neighbours: a training prefix's scores without its own session (distillation's soft targets).
   */
  sparseScores(prefix: Int32Array, exclude = -1): { items: Int32Array; scores: Float64Array } {
    this.scoreNeighbours(prefix, exclude, this.sparse.add);
    return this.sparse.take();
  }

  private scoreNeighbours(prefix: Int32Array, exclude: number, add: (item: number, value: number) => void): void {
    const { index } = this;
    // Distinct items, oldest last view first, so the last shared one is the most recent.
    const latest = index.distinct(Array.from(prefix).reverse()).reverse();
    if (latest.length === 0) return;
    const weights = latest.map((item, i) => Math.exp(-(latest.length - 1 - i) / this.prefixDecay) * (this.idf ? index.idf(item) : 1));
    const { sessions, overlaps, lastShared } = index.recentCandidates(latest, this.sampleSize, weights, exclude);
    const norm = Math.sqrt(latest.length);
    const similarity = new Float64Array(sessions.length);
    for (let c = 0; c < sessions.length; c++) similarity[c] = overlaps[c]! / (norm * Math.sqrt(index.size(sessions[c]!)));
    // Candidates come most recent first, so a stable sort keeps recency as the tie-break.
    const order = Array.from({ length: sessions.length }, (_, c) => c);
    order.sort((a, b) => similarity[b]! - similarity[a]! || a - b);
    for (let n = 0; n < Math.min(this.k, order.length); n++) {
      const c = order[n]!;
      const s = sessions[c]!;
      const from = index.start[s]!;
      const to = index.start[s + 1]!;
      const shared = latest[lastShared[c]!]!;
      let anchor = from;
      while (index.items[anchor] !== shared) anchor++;
      for (let p = from; p < to; p++) add(index.items[p]!, similarity[c]! * Math.exp(-Math.abs(p - anchor) / this.neighbourDecay));
    }
  }
}
