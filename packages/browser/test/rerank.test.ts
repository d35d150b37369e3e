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
    // Worked by hand: a = 1/61 + 1/62 beats e = 1/65 + 1/61; b, c, d (1/62, 1/63, 1/64) follow in the shop's order.
    expect(fuseRanks(['a', 'b', 'c', 'd', 'e'], ['e', 'a'])).toEqual([0, 4, 1, 2, 3]);
    // The model reverses the shop: a = d = 1/61 + 1/64 (0.032018) beat b = c = 1/62 + 1/63 (0.032002); ties keep the shop's order.
    expect(fuseRanks(['a', 'b', 'c', 'd'], ['d', 'c', 'b', 'a'])).toEqual([0, 3, 1, 2]);
  });

  it('uses RRF_K = 60: an item ranked r-th by both lists passes the shop’s top (unknown to the model) only while r < 62', () => {
    expect(RRF_K).toBe(60);
    /** The shop's top item 'top' (the model does not know it), fillers, then 'target' at shop rank r; the model ranks 'target' r-th too. */
    const lists = (r: number) => ({
      shop: ['top', ...Array.from({ length: r - 2 }, (_, i) => `filler-${i}`), 'target'],
      model: [...Array.from({ length: r - 1 }, (_, i) => `ghost-${i}`), 'target'],
    });
    // r = 61: 2/121 (0.016529) > 1/61 (0.016393): the target leads, the others keep the shop's order.
    const at61 = lists(61);
    expect(fuseRanks(at61.shop, at61.model)).toEqual([60, ...Array.from({ length: 60 }, (_, i) => i)]);
    // r = 63: 1/61 > 2/123 (0.016260) > 1/62 (0.016129, the first filler): second.
    const at63 = lists(63);
    expect(fuseRanks(at63.shop, at63.model)).toEqual([0, 62, ...Array.from({ length: 61 }, (_, i) => i + 1)]);
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
