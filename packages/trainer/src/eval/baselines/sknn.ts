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
import { ScoreBuffers } from './score-buffers.js';
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

  constructor(train: SequenceSet, numItems: number, options: SknnOptions = {}) {
    this.sampleSize = options.sampleSize ?? 500;
    this.k = options.k ?? 100;
    this.index = new SessionIndex(train, numItems);
    this.buffers = new ScoreBuffers(numItems);
  }

  score(prefixes: readonly Int32Array[]): Float32Array[] {
    const out = this.buffers.take(prefixes.length);
    prefixes.forEach((prefix, p) => this.scoreInto(prefix, out[p]!));
    return out;
  }

  private scoreInto(prefix: Int32Array, scores: Float32Array): void {
    const { index } = this;
    const distinct = index.distinct(prefix);
    if (distinct.length === 0) return;
    const { sessions, overlaps } = index.recentCandidates(distinct, this.sampleSize);
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
      for (let p = index.start[s]!; p < index.start[s + 1]!; p++) scores[index.items[p]!]! += sim;
    }
  }
}
