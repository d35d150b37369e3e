/**
 * What the worker reads off one step's logits about the items: their log-sum-exp (the items'
 * mass against other tokens: signals.ts), any item's probability, the most probable ones, and
 * every item's probability (categories). Made by the WASM pass (item-softmax.ts) or, where
 * WebAssembly SIMD is missing, by the plain JS softmax over every item (ranking.ts).
 */
import { itemDistribution, topIndices, type ItemDistribution } from '../ranking.js';

export interface ItemScores {
  /** log Σ exp(logit) over the items (-Infinity: none). */
  readonly logSumExp: number;
  /** Item `index`'s probability of being next. */
  probability(index: number): number;
  /** Indices of the `count` most probable items, best first (ties: lower index first). */
  top(count: number): Int32Array;
  /** Every item's probability, by index (a pass over every item: categories only). */
  probabilities(): Float32Array;
}

/** Item scores from a whole softmax already computed. */
export function distributionScores({ probabilities, logSumExp }: ItemDistribution): ItemScores {
  return {
    logSumExp,
    probability: (index) => probabilities[index]!,
    top: (count) => topIndices(probabilities, count),
    probabilities: () => probabilities,
  };
}

/** The JS softmax over every item (ranking.ts itemDistribution) into `into`: the reference, and the fallback without SIMD. */
export function referenceItemScores(logits: Float32Array, itemTokenIds: ArrayLike<number>, into?: Float32Array): ItemScores {
  return distributionScores(itemDistribution(logits, itemTokenIds, into));
}
