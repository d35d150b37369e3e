import { describe, expect, it } from 'vitest';
import { rankItems } from '../src/worker/ranking.js';

describe('rankItems', () => {
  const items = [
    { tokenId: 3, itemId: 'a' },
    { tokenId: 4, itemId: 'b' },
    { tokenId: 5, itemId: 'c' },
  ];
  // Token 0-2 are not items: a huge logit there must not matter.
  const logits = Float32Array.from([50, 50, 50, Math.log(1), Math.log(3), Math.log(6)]);

  it('ranks items by softmax over item tokens only', () => {
    const ranked = rankItems(logits, items, 3, new Set());
    expect(ranked.map((r) => r.itemId)).toEqual(['c', 'b', 'a']);
    expect(ranked.map((r) => r.score)).toEqual([0.6, 0.3, 0.1].map((p) => expect.closeTo(p, 6)));
  });

  it('drops excluded items but keeps probabilities over the whole catalog', () => {
    const ranked = rankItems(logits, items, 2, new Set(['c']));
    expect(ranked).toEqual([
      { itemId: 'b', score: expect.closeTo(0.3, 6) },
      { itemId: 'a', score: expect.closeTo(0.1, 6) },
    ]);
  });

  it('breaks ties by item id and honours k', () => {
    const flat = new Float32Array(6);
    expect(rankItems(flat, items, 2, new Set()).map((r) => r.itemId)).toEqual(['a', 'b']);
  });
});
