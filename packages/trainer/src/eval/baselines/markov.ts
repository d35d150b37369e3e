/**
 * First-order Markov baseline: an item's score is how often it directly followed the
 * prefix's last item in training (consecutive pairs within a sequence, repeats such as
 * a -> a included). Items that never followed it score 0 and so rank by the tie-break
 * (training popularity): an unseen or empty prefix falls back to plain popularity.
 */
import type { SequenceSet } from '../../data/sequence-set.js';
import type { Recommender } from '../metrics.js';
import { ScoreBuffers } from './score-buffers.js';

export interface MarkovOptions {
  /** Also count b -> a for every training pair a -> b. Default false. */
  bidirectional?: boolean;
}

export class MarkovRecommender implements Recommender {
  readonly name = 'markov';
  /** CSR transition table: successors of item a are next[start[a]..start[a+1]) with counts. */
  private readonly start: Int32Array;
  private readonly next: Int32Array;
  private readonly counts: Int32Array;
  private readonly buffers: ScoreBuffers;

  constructor(train: SequenceSet, numItems: number, options: MarkovOptions = {}) {
    // Pair keys a * numItems + b stay exact in a double up to ~9e15 (94M items).
    const keys: number[] = [];
    for (const sequence of train) {
      for (let i = 1; i < sequence.length; i++) {
        const a = sequence[i - 1]!;
        const b = sequence[i]!;
        keys.push(a * numItems + b);
        if (options.bidirectional) keys.push(b * numItems + a);
      }
    }
    const sorted = Float64Array.from(keys).sort();
    const next: number[] = [];
    const counts: number[] = [];
    this.start = new Int32Array(numItems + 1);
    for (let i = 0; i < sorted.length; ) {
      const key = sorted[i]!;
      let j = i;
      while (j < sorted.length && sorted[j] === key) j++;
      const a = Math.floor(key / numItems);
      next.push(key - a * numItems);
      counts.push(j - i);
      this.start[a + 1]!++;
      i = j;
    }
    for (let a = 0; a < numItems; a++) this.start[a + 1]! += this.start[a]!;
    this.next = Int32Array.from(next);
    this.counts = Int32Array.from(counts);
    this.buffers = new ScoreBuffers(numItems);
  }

  score(prefixes: readonly Int32Array[]): Float32Array[] {
    const out = this.buffers.take(prefixes.length);
    prefixes.forEach((prefix, p) => {
      if (prefix.length === 0) return;
      const last = prefix[prefix.length - 1]!;
      const scores = out[p]!;
      for (let t = this.start[last]!; t < this.start[last + 1]!; t++) scores[this.next[t]!] = this.counts[t]!;
    });
    return out;
  }
}
