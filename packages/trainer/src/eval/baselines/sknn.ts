/**
 * Session-kNN (SKNN, Jannach & Ludewig 2017): the neighbours of a prefix are training
 * sessions that share an item with it. Of those, the `sampleSize` most recent (highest
 * training position: files are in date order) are candidates; the `k` most similar by
 * cosine over binary item sets, |A∩B| / sqrt(|A|·|B|), are the neighbours (similarity
 * ties: the more recent wins). An item scores the sum of the similarities of the
 * neighbours that contain it. Inverted indexes keep one prefix to ~microseconds.
 */
import type { SequenceSet } from '../../data/sequence-set.js';
import type { Recommender } from '../metrics.js';
import { ScoreBuffers, SparseSums } from './score-buffers.js';
import { SessionIndex } from './session-index.js';

export interface SknnOptions {
  /** Candidate sessions: the most recent ones sharing an item. Default 500. */
  sampleSize?: number;
  /** Neighbours used for scoring. Default 100. */
  k?: number;
}

export class SknnRecommender implements Recommender {
  readonly name = 'sknn';
  readonly sampleSize: number;
  readonly k: number;
  private readonly index: SessionIndex;
  private readonly buffers: ScoreBuffers;
  private readonly sparse: SparseSums;

  constructor(train: SequenceSet, numItems: number, options: SknnOptions = {}) {
    this.sampleSize = options.sampleSize ?? 500;
    this.k = options.k ?? 100;
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
    const distinct = index.distinct(prefix);
    if (distinct.length === 0) return;
    const { sessions, overlaps } = index.recentCandidates(distinct, this.sampleSize, undefined, exclude);
    const norm = Math.sqrt(distinct.length);
    const similarity = new Float64Array(sessions.length);
    for (let c = 0; c < sessions.length; c++) similarity[c] = overlaps[c]! / (norm * Math.sqrt(index.size(sessions[c]!)));
    // Candidates come most recent first, so a stable sort keeps recency as the tie-break.
    const order = Array.from({ length: sessions.length }, (_, c) => c);
    order.sort((a, b) => similarity[b]! - similarity[a]! || a - b);
    for (let n = 0; n < Math.min(this.k, order.length); n++) {
      const c = order[n]!;
      const s = sessions[c]!;
      const sim = similarity[c]!;
      for (let p = index.start[s]!; p < index.start[s + 1]!; p++) add(index.items[p]!, sim);
    }
  }
}
