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
import { NeighbourhoodRecommender } from './neighbourhood.js';

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

export class StanRecommender extends NeighbourhoodRecommender {
  readonly name = 'stan';
  readonly prefixDecay: number;
  readonly neighbourDecay: number;
  readonly idf: boolean;

  constructor(train: SequenceSet, numItems: number, options: StanOptions = {}) {
    super(train, numItems, options.sampleSize ?? 500, options.k ?? 200);
    this.prefixDecay = options.prefixDecay ?? 2;
    this.neighbourDecay = options.neighbourDecay ?? 4;
    this.idf = options.idf ?? true;
  }

  protected scoreNeighbours(prefix: Int32Array, exclude: number, add: (item: number, value: number) => void): void {
    const { index } = this;
    // Distinct items, oldest last view first, so the last shared one is the most recent.
    const latest = index.distinct(Array.from(prefix).reverse()).reverse();
    if (latest.length === 0) return;
    const weights = latest.map((item, i) => Math.exp(-(latest.length - 1 - i) / this.prefixDecay) * (this.idf ? index.idf(item) : 1));
    const { sessions, overlaps, lastShared } = index.recentCandidates(latest, this.sampleSize, weights, exclude);
    for (const { candidate, similarity } of this.nearest(sessions, overlaps, latest.length)) {
      const from = index.start[sessions[candidate]!]!;
      const to = index.start[sessions[candidate]! + 1]!;
      const shared = latest[lastShared[candidate]!]!;
      let anchor = from;
      while (index.items[anchor] !== shared) anchor++;
      for (let p = from; p < to; p++) add(index.items[p]!, similarity * Math.exp(-Math.abs(p - anchor) / this.neighbourDecay));
    }
  }
}
