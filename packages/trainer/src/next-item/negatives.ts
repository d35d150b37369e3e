/**
 * The negatives of the next-item loss (loss.ts): every candidate (the full softmax) while
 * the catalog is small, else K shared items per step, drawn from q ∝ (count + 1)^0.75 over
 * the candidates.
 */
import type { Rng } from '../lib/prng.js';

/** Draws from a discrete distribution in O(1) (Walker's alias method). */
export class AliasSampler {
  readonly prob: Float32Array;
  readonly alias: Int32Array;
  /** log q(i) for every outcome. */
  readonly logQ: Float32Array;

  constructor(weights: ArrayLike<number>) {
    const n = weights.length;
    let total = 0;
    for (let i = 0; i < n; i++) total += weights[i]!;
    this.prob = new Float32Array(n);
    this.alias = new Int32Array(n);
    this.logQ = new Float32Array(n);
    const scaled = new Float64Array(n);
    const small: number[] = [];
    const large: number[] = [];
    for (let i = 0; i < n; i++) {
      const q = weights[i]! / total;
      this.logQ[i] = q > 0 ? Math.log(q) : -Infinity;
      scaled[i] = q * n;
      (scaled[i]! < 1 ? small : large).push(i);
    }
    while (small.length && large.length) {
      const s = small.pop()!;
      const l = large.pop()!;
      this.prob[s] = scaled[s]!;
      this.alias[s] = l;
      scaled[l] = scaled[l]! + scaled[s]! - 1;
      (scaled[l]! < 1 ? small : large).push(l);
    }
    for (const i of [...small, ...large]) this.prob[i] = 1;
  }

  sample(rng: Rng, k: number): Int32Array {
    const out = new Int32Array(k);
    const n = this.prob.length;
    for (let j = 0; j < k; j++) {
      const i = Math.floor(rng.next() * n);
      out[j] = rng.next() < this.prob[i]! ? i : this.alias[i]!;
    }
    return out;
  }
}

/** Negative-sampling weights (count+1)^power for candidate tokens, 0 for the rest. */
export function negativeWeights(counts: ArrayLike<number>, isItem: Uint8Array, power = 0.75): Float64Array {
  const w = new Float64Array(counts.length);
  for (let i = 0; i < counts.length; i++) w[i] = isItem[i] ? (counts[i]! + 1) ** power : 0;
  return w;
}

/**
 * The negatives per step for this many candidate tokens: 0 (the full softmax over every
 * candidate) while they are at most `fullSoftmaxMax`, else `sampled`.
 */
export function negativesFor(candidates: number, fullSoftmaxMax: number, sampled: number): number {
  return candidates <= fullSoftmaxMax ? 0 : sampled;
}
