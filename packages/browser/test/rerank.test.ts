import { describe, expect, it } from 'vitest';
import { defaultIdOf, fuseRanks, RRF_K } from '../src/rerank.js';

describe('fuseRanks', () => {
  it('keeps the shop’s order when the model agrees, and when it knows nothing', () => {
    expect(fuseRanks(['a', 'b', 'c'], ['a', 'b', 'c'])).toEqual([0, 1, 2]);
    expect(fuseRanks(['a', 'b', 'c'], [])).toEqual([0, 1, 2]);
  });

  it('lifts what the model ranks first, by reciprocal rank fusion', () => {
    // The model's favourite, last in the shop's list, comes first; the others keep their order.
    expect(fuseRanks(['a', 'b', 'c', 'd'], ['d'])).toEqual([3, 0, 1, 2]);
    // Unknown to the model, 'a' keeps its own term only and falls behind both known items.
    expect(fuseRanks(['a', 'b', 'c'], ['c', 'b'])).toEqual([2, 1, 0]);
    const score = (shopRank: number, modelRank?: number) => 1 / (RRF_K + shopRank) + (modelRank ? 1 / (RRF_K + modelRank) : 0);
    expect(score(3, 1)).toBeGreaterThan(score(1));
  });
});

describe('defaultIdOf', () => {
  it('reads strings, item_id and id', () => {
    expect(defaultIdOf('sku')).toBe('sku');
    expect(defaultIdOf({ item_id: 'a', id: 'b' })).toBe('a');
    expect(defaultIdOf({ id: 'b' })).toBe('b');
    expect(defaultIdOf({ id: 7 })).toBeUndefined();
    expect(defaultIdOf(null)).toBeUndefined();
  });
});
