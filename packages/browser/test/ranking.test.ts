import type { HunchManifest } from '@hunch/core';
import { describe, expect, it } from 'vitest';
import { ItemList } from '../src/worker/item-list.js';
import { addRepeatBonus, itemDistribution, topIndices, topListedItems } from '../src/worker/ranking.js';
import { distributionScores, referenceItemScores } from '../src/worker/softmax/item-scores.js';

/** The items of a vocabulary held whole in hunch.json (no shards to read). */
const itemList = (tokens: string[]) => ItemList.of('http://shop.example/model/', { files: {} } as unknown as HunchManifest, tokens);

/** The k best items from the logits of the last position, as the worker ranks them without SIMD (the JS softmax, then topListedItems). */
async function rankItems(logits: Float32Array, tokens: string[], k: number, exclude: ReadonlySet<string>) {
  const items = itemList(tokens);
  return topListedItems(referenceItemScores(logits, items.tokens), items, k, exclude);
}

describe('rankItems', () => {
  // Token 0-2 are not items.
  const items = ['[PAD]', '[BOS]', '[UNK]', 'item:a', 'item:b', 'item:c'];
  // Token 0-2 are not items: a huge logit there must not matter.
  const logits = Float32Array.from([50, 50, 50, Math.log(1), Math.log(3), Math.log(6)]);

  it('ranks items by softmax over item tokens only', async () => {
    const ranked = await rankItems(logits, items, 3, new Set());
    expect(ranked.map((r) => r.itemId)).toEqual(['c', 'b', 'a']);
    expect(ranked.map((r) => r.score)).toEqual([0.6, 0.3, 0.1].map((p) => expect.closeTo(p, 6)));
  });

  it('drops excluded items but keeps probabilities over the whole catalog', async () => {
    const ranked = await rankItems(logits, items, 2, new Set(['c']));
    expect(ranked).toEqual([
      { itemId: 'b', score: expect.closeTo(0.3, 6) },
      { itemId: 'a', score: expect.closeTo(0.1, 6) },
    ]);
  });

  it('breaks ties by item id and honours k', async () => {
    const flat = new Float32Array(6);
    expect((await rankItems(flat, items, 2, new Set())).map((r) => r.itemId)).toEqual(['a', 'b']);
  });
});

describe('addRepeatBonus', () => {
  const items = new Set([3, 4, 5]);
  const logits = Float32Array.from([0, 0, 0, 1, 2, 3]);

  it('adds the bonus once to every item token in the input, and to nothing else', () => {
    // Item 3 occurs twice, token 1 (not an item) once, item 5 never.
    const boosted = addRepeatBonus(logits, [1, 3, 4, 3], items, 2.5);
    expect([...boosted]).toEqual([0, 0, 0, 3.5, 4.5, 3]);
    expect([...logits]).toEqual([0, 0, 0, 1, 2, 3]); // the input is left as it was
  });

  it('rounds like float32 and can turn the ranking', async () => {
    const boosted = addRepeatBonus(logits, [3], items, 0.1);
    expect(boosted[3]).toBe(Math.fround(1 + Math.fround(0.1)));
    const ranked = await rankItems(addRepeatBonus(logits, [3], items, 2.5), ['[PAD]', '[BOS]', '[UNK]', 'item:i3', 'item:i4', 'item:i5'], 3, new Set());
    expect(ranked.map((r) => r.itemId)).toEqual(['i3', 'i5', 'i4']);
  });

  it('takes a negative bonus (the model may learn to avoid repeats)', () => {
    expect([...addRepeatBonus(logits, [5, 4], items, -4)]).toEqual([0, 0, 0, 1, -2, -1]);
  });
});

describe('topListedItems', () => {
  it('gives the same top as sorting everything, for short and long tops, with exclusions and ties', async () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const items = Array.from({ length: 500 }, (_, i) => ({ itemId: `i${String(i).padStart(3, '0')}` }));
    const probabilities = Float32Array.from(items, () => Math.round(random() * 50) / 50); // many ties
    const exclude = new Set(['i001', 'i002', 'i250']);
    const sorted = items
      .map(({ itemId }, i) => ({ itemId, score: probabilities[i]! }))
      .filter(({ itemId }) => !exclude.has(itemId))
      .sort((a, b) => b.score - a.score || (a.itemId < b.itemId ? -1 : 1));
    const list = itemList(items.map(({ itemId }) => `item:${itemId}`));
    for (const k of [0, 1, 5, 20, 62, 63, 200, 600]) expect(await topListedItems(distributionScores({ probabilities, logSumExp: 0 }), list, k, exclude)).toEqual(sorted.slice(0, k));
  });
});

describe('itemDistribution', () => {
  const logits = Float32Array.from([5, 1, 2, 3, -1, 0]);
  const itemTokenIds = Int32Array.from([3, 1, 2]);

  it('is a softmax over the item tokens only, written into the buffer it is given', () => {
    const into = new Float32Array(3).fill(42);
    const { probabilities, logSumExp } = itemDistribution(logits, itemTokenIds, into);
    expect(probabilities).toBe(into);
    const total = Math.exp(3) + Math.exp(1) + Math.exp(2);
    expect([...probabilities].map((p) => +p.toFixed(6))).toEqual([Math.exp(3) / total, Math.exp(1) / total, Math.exp(2) / total].map((p) => +p.toFixed(6)));
    expect(logSumExp).toBeCloseTo(Math.log(total), 6);
    // Reused: a second call overwrites it with the new answer, the same as a fresh array.
    const again = itemDistribution(Float32Array.from([0, 4, 0, 4, 0, 0]), itemTokenIds, into);
    expect([...again.probabilities]).toEqual([...itemDistribution(Float32Array.from([0, 4, 0, 4, 0, 0]), itemTokenIds).probabilities]);
  });

  it('refuses a buffer of the wrong size', () => {
    expect(() => itemDistribution(logits, itemTokenIds, new Float32Array(2))).toThrow(/3 items but an output of 2/);
  });
});

describe('addRepeatBonus into a buffer', () => {
  it('overwrites the buffer with the logits plus the bonus', () => {
    const into = Float32Array.from([9, 9, 9]);
    const out = addRepeatBonus(Float32Array.from([1, 2, 3]), [2], new Set([2]), 0.5, into);
    expect(out).toBe(into);
    expect([...out]).toEqual([1, 2, 3.5]);
  });
});

describe('topIndices', () => {
  it('keeps the largest values, largest first, ties by lower index, in one pass', () => {
    const values = Float32Array.of(0.1, 0.5, 0.3, 0.5, 0.9, -1, 0.3);
    expect([...topIndices(values, 4)]).toEqual([4, 1, 3, 2]);
    expect([...topIndices(values, 10)]).toEqual([4, 1, 3, 2, 6, 0, 5]);
    expect([...topIndices(values, 0)]).toEqual([]);
    // Against a full sort on a big random array.
    const big = Float32Array.from({ length: 5000 }, (_, i) => Math.sin(i * 12.9898) * 43758.5453 % 1);
    const sorted = [...big.keys()].sort((a, b) => big[b]! - big[a]! || a - b);
    expect([...topIndices(big, 25)]).toEqual(sorted.slice(0, 25));
  });
});
