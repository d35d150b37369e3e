/**
 * Session-kNN (SKNN, Jannach & Ludewig 2017): the neighbours of a prefix are training
 * sessions that share an item with it. Of those, the `sampleSize` most recent (highest
 * training position: files are in date order) are candidates; the `k` most similar by
 * cosine over binary item sets, |A∩B| / sqrt(|A|·|B|), are the neighbours (similarity
 * ties: the more recent wins). An item scores the sum of the similarities of the
 * neighbours that contain it. Inverted indexes keep one prefix to ~microseconds.
 */
import type { SequenceSet } from '../../data/sequence-set.js';
import { NeighbourhoodRecommender } from './neighbourhood.js';

export interface SknnOptions {
  /** Candidate sessions: the most recent ones sharing an item. Default 500. */
  sampleSize?: number;
  /** Neighbours used for scoring. Default 100. */
  k?: number;
}

export class SknnRecommender extends NeighbourhoodRecommender {
  readonly name = 'sknn';

  constructor(train: SequenceSet, numItems: number, options: SknnOptions = {}) {
    super(train, numItems, options.sampleSize ?? 500, options.k ?? 100);
  }

  protected scoreNeighbours(prefix: Int32Array, exclude: number, add: (item: number, value: number) => void): void {
    const { index } = this;
    const distinct = index.distinct(prefix);
    if (distinct.length === 0) return;
    const { sessions, overlaps } = index.recentCandidates(distinct, this.sampleSize, undefined, exclude);
    for (const { candidate, similarity } of this.nearest(sessions, overlaps, distinct.length)) {
      const s = sessions[candidate]!;
      for (let p = index.start[s]!; p < index.start[s + 1]!; p++) add(index.items[p]!, similarity);
    }
  }
}
