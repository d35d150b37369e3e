/**
 * What the neighbourhood baselines (sknn.ts, stan.ts) share: the training sessions' index, the
 * nearest of a prefix's recent candidate sessions, and scores handed out dense (evaluation) or
 * sparse (distillation's soft targets). Each baseline says how its neighbours score items.
 */
import type { SequenceSet } from '../../data/sequence-set.js';
import type { Recommender } from '../metrics.js';
import { ScoreBuffers, SparseSums } from './score-buffers.js';
import { SessionIndex } from './session-index.js';

/** A candidate session among the nearest: its index in the candidates, and its similarity. */
export interface Neighbour {
  candidate: number;
  similarity: number;
}

export abstract class NeighbourhoodRecommender implements Recommender {
  abstract readonly name: string;
  protected readonly index: SessionIndex;
  private readonly buffers: ScoreBuffers;
  private readonly sparse: SparseSums;

  /** `sampleSize`: candidate sessions, the most recent sharing an item; `k`: neighbours used for scoring. */
  constructor(train: SequenceSet, numItems: number, readonly sampleSize: number, readonly k: number) {
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

  /** Calls `add(item, score)` for each item a neighbour of `prefix` (session `exclude` left out) scores. */
  protected abstract scoreNeighbours(prefix: Int32Array, exclude: number, add: (item: number, value: number) => void): void;

  /**
   * The `k` nearest candidates by overlap / sqrt(|prefix|·|session|), nearest first. Candidates
   * come most recent first, so a stable sort keeps recency as the tie-break.
   */
  protected nearest(sessions: readonly number[], overlaps: readonly number[], prefixSize: number): Neighbour[] {
    const norm = Math.sqrt(prefixSize);
    const similarity = sessions.map((s, c) => overlaps[c]! / (norm * Math.sqrt(this.index.size(s))));
    const order = Array.from({ length: sessions.length }, (_, c) => c);
    order.sort((a, b) => similarity[b]! - similarity[a]! || a - b);
    return order.slice(0, this.k).map((candidate) => ({ candidate, similarity: similarity[candidate]! }));
  }
}
