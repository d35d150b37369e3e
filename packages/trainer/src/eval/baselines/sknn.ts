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
  /** Distinct items of each training session, flat with offsets. */
  private readonly sessionStart: Int32Array;
  private readonly sessionItems: Int32Array;
  /** Inverted index: sessions containing item i are postings[postingStart[i]..), ascending. */
  private readonly postingStart: Int32Array;
  private readonly postings: Int32Array;
  private readonly buffers: ScoreBuffers;
  /** Scratch of sparseScores, all zeros between calls. */
  private readonly sparseSums: Float64Array;
  /** Scratch, reused across prefixes. */
  private readonly seen: Int32Array;
  private stamp = 0;

  constructor(train: SequenceSet, numItems: number, options: SknnOptions = {}) {
    this.sampleSize = options.sampleSize ?? 500;
    this.k = options.k ?? 100;
    this.seen = new Int32Array(Math.max(numItems, train.length));
    // Distinct items per session.
    this.sessionStart = new Int32Array(train.length + 1);
    const items: number[] = [];
    const postingCount = new Int32Array(numItems + 1);
    for (let s = 0; s < train.length; s++) {
      const mark = ++this.stamp;
      for (const item of train.get(s)) {
        if (this.seen[item] === mark) continue;
        this.seen[item] = mark;
        items.push(item);
        postingCount[item + 1]!++;
      }
      this.sessionStart[s + 1] = items.length;
    }
    this.sessionItems = Int32Array.from(items);
    for (let i = 0; i < numItems; i++) postingCount[i + 1]! += postingCount[i]!;
    this.postingStart = postingCount.slice();
    this.postings = new Int32Array(items.length);
    const fill = postingCount; // reused as write cursors
    for (let s = 0; s < train.length; s++) {
      for (let p = this.sessionStart[s]!; p < this.sessionStart[s + 1]!; p++) {
        this.postings[fill[this.sessionItems[p]!]!++] = s;
      }
    }
    this.buffers = new ScoreBuffers(numItems);
    this.sparseSums = new Float64Array(numItems);
  }

  score(prefixes: readonly Int32Array[]): Float32Array[] {
    const out = this.buffers.take(prefixes.length);
    prefixes.forEach((prefix, p) => this.scoreInto(prefix, out[p]!));
    return out;
  }

  /**
   * The items the neighbours of `prefix` score and their scores, unordered (the same scores
   * `score` gives them; every other item scores 0), with training session `exclude` left out
   * of the candidates: a training prefix's neighbours without its own session.
   */
  sparseScores(prefix: Int32Array, exclude = -1): { items: Int32Array; scores: Float64Array } {
    const touched: number[] = [];
    const sums = this.sparseSums;
    for (const { session, similarity } of this.neighbours(prefix, exclude)) {
      for (let p = this.sessionStart[session]!; p < this.sessionStart[session + 1]!; p++) {
        const item = this.sessionItems[p]!;
        if (sums[item] === 0) touched.push(item);
        sums[item]! += similarity;
      }
    }
    const items = Int32Array.from(touched);
    const scores = Float64Array.from(touched, (item) => sums[item]!);
    for (const item of touched) sums[item] = 0;
    return { items, scores };
  }

  private scoreInto(prefix: Int32Array, scores: Float32Array): void {
    for (const { session, similarity } of this.neighbours(prefix, -1)) {
      for (let p = this.sessionStart[session]!; p < this.sessionStart[session + 1]!; p++) scores[this.sessionItems[p]!]! += similarity;
    }
  }

  /** The `k` most similar of the recent candidate sessions (leaving out `exclude`), most similar first. */
  private neighbours(prefix: Int32Array, exclude: number): Array<{ session: number; similarity: number }> {
    const distinct = this.distinctItems(prefix);
    if (distinct.length === 0) return [];
    const { sessions, overlaps } = this.recentCandidates(distinct, exclude);
    const norm = Math.sqrt(distinct.length);
    const similarity = new Float64Array(sessions.length);
    for (let c = 0; c < sessions.length; c++) {
      const s = sessions[c]!;
      const size = this.sessionStart[s + 1]! - this.sessionStart[s]!;
      similarity[c] = overlaps[c]! / (norm * Math.sqrt(size));
    }
    // Candidates come most recent first, so a stable sort keeps recency as the tie-break.
    const order = Array.from({ length: sessions.length }, (_, c) => c);
    order.sort((a, b) => similarity[b]! - similarity[a]! || a - b);
    return order.slice(0, this.k).map((c) => ({ session: sessions[c]!, similarity: similarity[c]! }));
  }

  private distinctItems(prefix: Int32Array): number[] {
    const mark = this.nextStamp();
    const distinct: number[] = [];
    for (const item of prefix) {
      if (this.seen[item] === mark) continue;
      this.seen[item] = mark;
      distinct.push(item);
    }
    return distinct;
  }

  /**
   * The `sampleSize` most recent sessions containing any of `items`, most recent first,
   * with how many of `items` each contains, session `exclude` skipped: a merge from the ends
   * of the posting lists.
   */
  private recentCandidates(items: number[], exclude: number): { sessions: number[]; overlaps: number[] } {
    const cursors = items.map((item) => this.postingStart[item + 1]! - 1);
    const floors = items.map((item) => this.postingStart[item]!);
    const sessions: number[] = [];
    const overlaps: number[] = [];
    while (sessions.length < this.sampleSize) {
      let newest = -1;
      for (let i = 0; i < items.length; i++) {
        if (cursors[i]! >= floors[i]!) newest = Math.max(newest, this.postings[cursors[i]!]!);
      }
      if (newest < 0) break;
      let overlap = 0;
      for (let i = 0; i < items.length; i++) {
        if (cursors[i]! >= floors[i]! && this.postings[cursors[i]!] === newest) {
          overlap++;
          cursors[i]!--;
        }
      }
      if (newest === exclude) continue;
      sessions.push(newest);
      overlaps.push(overlap);
    }
    return { sessions, overlaps };
  }

  private nextStamp(): number {
    if (this.stamp === 2 ** 31 - 1) {
      this.seen.fill(0);
      this.stamp = 0;
    }
    return ++this.stamp;
  }
}
