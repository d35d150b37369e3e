/** Popularity baseline: every prefix gets the same ranking, by training counts. */
import type { Recommender } from '../metrics.js';

export class PopularityRecommender implements Recommender {
  readonly name = 'popularity';
  private readonly scores: Float32Array;

  /** @param counts training occurrences per item (countItems) */
  constructor(counts: ArrayLike<number>) {
    this.scores = Float32Array.from(counts);
  }

  score(prefixes: readonly Int32Array[]): Float32Array[] {
    // One shared array: evaluate only reads scores.
    return prefixes.map(() => this.scores);
  }
}
