import { describe, expect, it } from 'vitest';
import { itemDistribution } from '../src/worker/ranking.js';
import { actionTokenIds, categoryIndex, categoryScores, nextActionProbabilities } from '../src/worker/signals.js';

describe('next-action probabilities', () => {
  const tokens = ['[PAD]', '[BOS]', '[UNK]', '<add_to_cart>', '<purchase>', '<not_an_event>', 'q:mug', 'item:a', 'item:b'];
  const actions = actionTokenIds(tokens);
  const itemTokenIds = [7, 8];

  it('finds the action tokens of known event names only', () => {
    expect(actions).toEqual([
      { tokenId: 3, action: 'add_to_cart' },
      { tokenId: 4, action: 'purchase' },
    ]);
  });

  it('normalises over actions and items, items summed as view_item; text and specials left out', () => {
    const logits = Float32Array.from([9, 9, 9, Math.log(2), Math.log(1), 9, 9, Math.log(3), Math.log(4)]);
    const next = nextActionProbabilities(logits, actions, itemDistribution(logits, itemTokenIds).logSumExp);
    expect(next.view_item).toBeCloseTo(0.7, 6);
    expect(next.add_to_cart).toBeCloseTo(0.2, 6);
    expect(next.purchase).toBeCloseTo(0.1, 6);
    expect(nextActionProbabilities(logits, actions, -Infinity)).toEqual({ add_to_cart: expect.closeTo(2 / 3, 6), purchase: expect.closeTo(1 / 3, 6) });
  });
});

describe('categoryScores', () => {
  it('sums item probabilities per category, best first, uncategorised items ignored', () => {
    const categories = new Map([
      ['a', 'mugs'],
      ['b', 'tea'],
      ['c', 'mugs'],
    ]);
    const catalog = { category: (id: string) => categories.get(id) };
    const ids = ['a', 'b', 'c', 'd'];
    const index = categoryIndex({ length: ids.length, itemId: (i) => ids[i] }, catalog);
    const scores = categoryScores(Float32Array.from([0.2, 0.3, 0.25, 0.25]), index, 5);
    expect(scores.map((s) => s.category)).toEqual(['mugs', 'tea']);
    expect(scores[0]!.score).toBeCloseTo(0.45, 6);
    expect(categoryScores(Float32Array.from([0.2, 0.3, 0.25, 0.25]), index, 1)).toHaveLength(1);
    expect(categoryScores(Float32Array.from([1]), categoryIndex({ length: 1, itemId: () => 'd' }, catalog), 5)).toEqual([]);
  });
});
