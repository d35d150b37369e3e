/**
 * The batches of one epoch, a function of (seed, epoch) only: a resumed run replays them.
 * Sessions of similar length share a batch, so little of a batch is padding.
 */
import { hashSeed, Rng } from '../lib/prng.js';

/** Epoch plan: shuffled, then sorted by length within chunks, cut into batches, batches shuffled. */
export function planEpoch(lengths: ArrayLike<number>, batchTokens: number, seed: number, epoch: number): number[][] {
  const rng = new Rng(hashSeed(seed, epoch, 0xe90c));
  const order = rng.shuffle(Array.from({ length: lengths.length }, (_, i) => i));
  const chunk = 4096;
  const batches: number[][] = [];
  for (let c = 0; c < order.length; c += chunk) {
    const part = order.slice(c, c + chunk).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
    let batch: number[] = [];
    let maxLen = 0;
    for (const i of part) {
      const len = lengths[i]! - 1;
      if (batch.length > 0 && (batch.length + 1) * Math.max(maxLen, len) > batchTokens) {
        batches.push(batch);
        batch = [];
        maxLen = 0;
      }
      batch.push(i);
      maxLen = Math.max(maxLen, len);
    }
    if (batch.length) batches.push(batch);
  }
  return rng.shuffle(batches);
}
