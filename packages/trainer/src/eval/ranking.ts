/**
 * Exact full ranking of one item among all items by score, without sorting: the rank is
 * counted in one pass, and top-K is a partial selection. Ties are broken by a fixed item
 * order (training popularity descending, then lower raw id), so every ranking is total
 * and reproducible. NaN scores rank below everything.
 */
import { compareRawIds } from '../data/item-index.js';

/**
 * Tie-break position of every item: 0 wins every tie. Order: training popularity
 * descending, then lower raw id (compareRawIds), as the datasets README prescribes.
 */
export function tieBreakRanks(popularity: ArrayLike<number>, rawIds: readonly string[]): Int32Array {
  if (popularity.length !== rawIds.length) {
    throw new Error(`tieBreakRanks: ${popularity.length} popularity counts for ${rawIds.length} items`);
  }
  const order = Array.from({ length: rawIds.length }, (_, i) => i);
  order.sort((a, b) => popularity[b]! - popularity[a]! || compareRawIds(rawIds[a]!, rawIds[b]!));
  const ranks = new Int32Array(order.length);
  order.forEach((item, position) => (ranks[item] = position));
  return ranks;
}

/** Ranks items by scores with a fixed tie-break; holds scratch space, so one per thread. */
export class Ranker {
  /** Marks excluded items: stamp[item] === currentStamp means "excluded in this call". */
  private readonly stamp: Int32Array;
  private currentStamp = 0;

  /** @param tieRank from tieBreakRanks: lower wins a tie */
  constructor(readonly tieRank: Int32Array) {
    this.stamp = new Int32Array(tieRank.length);
  }

  get numItems(): number {
    return this.tieRank.length;
  }

  /**
   * 1-based rank of `target`: 1 + the items that score strictly higher + the items that
   * tie with it and win the tie-break, not counting items in `exclude` (except the target
   * itself, which is never excluded). Throws when the target's score is NaN.
   */
  rank(scores: Float32Array, target: number, exclude?: ArrayLike<number>): number {
    this.checkLength(scores);
    const tie = this.tieRank;
    const t = scores[target]!;
    if (Number.isNaN(t)) throw new Error(`Ranker: the target item ${target} has a NaN score`);
    const tt = tie[target]!;
    const n = scores.length;
    let above = 0;
    for (let j = 0; j < n; j++) {
      const s = scores[j]!;
      if (s > t || (s === t && tie[j]! < tt)) above++;
    }
    if (exclude && exclude.length > 0) {
      const mark = this.nextStamp();
      for (let i = 0; i < exclude.length; i++) {
        const j = exclude[i]!;
        if (j === target || this.stamp[j] === mark) continue;
        this.stamp[j] = mark;
        const s = scores[j]!;
        if (s > t || (s === t && tie[j]! < tt)) above--;
      }
    }
    return above + 1;
  }

  /**
   * The best `k` items, best first, skipping items in `exclude` (fewer when fewer items
   * are left; NaN-scored items never appear). One pass with a small sorted buffer.
   */
  topK(scores: Float32Array, k: number, exclude?: ArrayLike<number>): Int32Array {
    this.checkLength(scores);
    const tie = this.tieRank;
    const mark = this.nextStamp();
    if (exclude) for (let i = 0; i < exclude.length; i++) this.stamp[exclude[i]!] = mark;
    const items = new Int32Array(k);
    const best = new Float64Array(k);
    const bestTie = new Int32Array(k);
    let count = 0;
    let worst = -Infinity;
    let worstTie = 2 ** 31 - 1;
    const n = scores.length;
    for (let j = 0; j < n; j++) {
      const s = scores[j]!;
      if (count === k) {
        if (!(s > worst || (s === worst && tie[j]! < worstTie))) continue;
      } else if (Number.isNaN(s)) continue;
      if (this.stamp[j] === mark) continue;
      // Insertion into the sorted buffer: k is small and insertions are rare after warm-up.
      let p = count < k ? count++ : k - 1;
      const tj = tie[j]!;
      while (p > 0 && (s > best[p - 1]! || (s === best[p - 1]! && tj < bestTie[p - 1]!))) {
        items[p] = items[p - 1]!;
        best[p] = best[p - 1]!;
        bestTie[p] = bestTie[p - 1]!;
        p--;
      }
      items[p] = j;
      best[p] = s;
      bestTie[p] = tj;
      if (count === k) {
        worst = best[k - 1]!;
        worstTie = bestTie[k - 1]!;
      }
    }
    return count === k ? items : items.slice(0, count);
  }

  private nextStamp(): number {
    if (this.currentStamp === 2 ** 31 - 1) {
      this.stamp.fill(0);
      this.currentStamp = 0;
    }
    return ++this.currentStamp;
  }

  private checkLength(scores: Float32Array): void {
    if (scores.length !== this.tieRank.length) {
      throw new Error(`Ranker: ${scores.length} scores for ${this.tieRank.length} items`);
    }
  }
}
