import type { HunchManifest } from '@hunch/core';
import { describe, expect, it } from 'vitest';
import { ItemList } from '../src/worker/item-list.js';
import { topListedItems } from '../src/worker/ranking.js';
import { referenceItemScores } from '../src/worker/softmax/item-scores.js';
import { ItemSoftmax } from '../src/worker/softmax/item-softmax.js';

let seed = 11;
const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;

/** `items` item tokens among `items + others` tokens, in an order that breaks them into runs (others between). */
function vocabulary(items: number, others: number): { tokens: string[]; itemTokenIds: Int32Array } {
  const tokens = ['[PAD]', '[BOS]', '[UNK]'];
  let made = 0;
  let left = others;
  while (made < items) {
    if (left > 0 && random() < 0.01) {
      tokens.push(`<other_${left--}>`);
      continue;
    }
    tokens.push(`item:p${String(made++).padStart(6, '0')}`);
  }
  while (left > 0) tokens.push(`<other_${left--}>`);
  const itemTokenIds = Int32Array.from(tokens.flatMap((token, id) => (token.startsWith('item:') ? [id] : [])));
  return { tokens, itemTokenIds };
}

/** Item indices by logit (largest first, ties: lower index first): a plain sort of everything. */
function sortedByLogit(logits: Float32Array, itemTokenIds: Int32Array): number[] {
  return [...itemTokenIds.keys()].sort((a, b) => logits[itemTokenIds[b]!]! - logits[itemTokenIds[a]!]! || a - b);
}

const softmaxOf = (itemTokenIds: Int32Array) => {
  const softmax = ItemSoftmax.create(itemTokenIds);
  if (!softmax) throw new Error('WebAssembly SIMD missing in this Node');
  return softmax;
};

describe('ItemSoftmax (the WASM pass over the item logits)', () => {
  it('gives the log-sum-exp, the probabilities and the top of a plain JS softmax, across chunks, runs and ties', () => {
    for (const [items, others] of [[1, 0], [3, 2], [5, 40], [4096, 3], [10_007, 200]] as const) {
      const { tokens, itemTokenIds } = vocabulary(items, others);
      // Logits on a grid of quarters (many ties), larger ones on the tokens that are not items (they must not count).
      const logits = Float32Array.from(tokens, (token) => (token.startsWith('item:') ? Math.round((random() * 24 - 12) * 4) / 4 : 30));
      const reference = referenceItemScores(logits, itemTokenIds);
      const scores = softmaxOf(itemTokenIds).scores(logits, 20);
      expect(scores.logSumExp).toBeCloseTo(reference.logSumExp, 5);
      const sorted = sortedByLogit(logits, itemTokenIds);
      for (const count of [1, 20, 64, 65, 300, items + 5]) {
        expect([...scores.top(count)]).toEqual(sorted.slice(0, count));
        expect([...scores.top(count)]).toEqual([...reference.top(count)]);
      }
      const probabilities = scores.probabilities();
      const expected = reference.probabilities();
      let off = 0; // the count of probabilities off the reference
      for (let i = 0; i < items; i++) {
        if (!(Math.abs(scores.probability(i) - expected[i]!) <= 5e-6 * expected[i]! && Math.abs(probabilities[i]! - expected[i]!) <= 5e-6 * expected[i]!)) off++;
      }
      expect(off).toBe(0);
    }
  });

  it('ranks with exclusions, and with k larger than the items, as the JS softmax does', async () => {
    const { tokens, itemTokenIds } = vocabulary(700, 30);
    const logits = Float32Array.from(tokens, (token) => (token.startsWith('item:') ? Math.round(random() * 40) / 8 : -5));
    const items = ItemList.of('http://shop.example/model/', { files: {} } as unknown as HunchManifest, tokens);
    const scores = softmaxOf(items.tokens).scores(logits, 23);
    const reference = referenceItemScores(logits, items.tokens);
    const exclude = new Set(sortedByLogit(logits, itemTokenIds).slice(0, 3).map((index) => items.itemId(index)!));
    for (const k of [0, 1, 20, 64, 200, 699, 700, 900]) {
      const ours = await topListedItems(scores, items, k, exclude);
      const theirs = await topListedItems(reference, items, k, exclude);
      expect(ours.map(({ itemId }) => itemId)).toEqual(theirs.map(({ itemId }) => itemId));
      ours.forEach(({ score }, i) => expect(Math.abs(score - theirs[i]!.score)).toBeLessThanOrEqual(5e-6 * theirs[i]!.score));
    }
  });

  it('stays free of NaN on extreme logits: the largest floats, -Infinity, a lone huge one', () => {
    const { itemTokenIds } = vocabulary(9000, 0);
    const n = itemTokenIds.length + 3;
    const cases: Array<(token: number) => number> = [
      (t) => (t % 2 ? 3e38 : -3e38),
      (t) => (t % 3 === 0 ? -Infinity : (t % 7) * 1e4),
      (t) => (t === 5000 ? 1e30 : -1e30),
      (t) => (t < 100 ? -Infinity : -80 - (t % 13)),
      // A later chunk's logits far above the first's: the sum's shift must follow them.
      (t) => (t < 5000 ? -100 + (t % 7) : 100 + (t % 5)),
    ];
    for (const logitOf of cases) {
      const logits = Float32Array.from({ length: n }, (_, t) => logitOf(t));
      const scores = softmaxOf(itemTokenIds).scores(logits, 20);
      expect(Number.isFinite(scores.logSumExp)).toBe(true);
      const reference = referenceItemScores(logits, itemTokenIds);
      expect(scores.logSumExp).toBeCloseTo(reference.logSumExp, 5);
      const probabilities = scores.probabilities();
      const expected = reference.probabilities();
      let total = 0;
      let off = 0; // the count of probabilities that are NaN or off the reference
      for (let i = 0; i < probabilities.length; i++) {
        const one = scores.probability(i);
        if (Number.isNaN(one) || Number.isNaN(probabilities[i]!)) off++;
        if (!(Math.abs(one - expected[i]!) <= 5e-6 * expected[i]! + 1e-30 && Math.abs(probabilities[i]! - expected[i]!) <= 5e-6 * expected[i]! + 1e-30)) off++;
        total += probabilities[i]!;
      }
      expect(off).toBe(0);
      expect(total).toBeCloseTo(1, 4);
      expect([...scores.top(20)]).toEqual(sortedByLogit(logits, itemTokenIds).slice(0, 20));
    }
  });

  it('scores new logits in a reused buffer, and earlier scores still read their own logits', () => {
    const { tokens, itemTokenIds } = vocabulary(500, 10);
    const softmax = softmaxOf(itemTokenIds);
    const [a, b] = [new Float32Array(tokens.length), new Float32Array(tokens.length)];
    a.set(Float32Array.from(tokens, () => random() * 10));
    const first = softmax.scores(a, 5);
    expect([...first.top(5)]).toEqual(sortedByLogit(a, itemTokenIds).slice(0, 5));
    b.set(Float32Array.from(tokens, () => random() * 10));
    const second = softmax.scores(b, 5);
    // The first scores asked for more than they found: their own logits, not the copy of the second's.
    expect([...first.top(200)]).toEqual(sortedByLogit(a, itemTokenIds).slice(0, 200));
    const expected = referenceItemScores(a, itemTokenIds).probabilities();
    first.probabilities().forEach((p, i) => expect(Math.abs(p - expected[i]!)).toBeLessThanOrEqual(5e-6 * expected[i]!));
    a.set(Float32Array.from(tokens, () => random() * 10)); // the same buffer, a new step
    expect([...softmax.scores(a, 5).top(5)]).toEqual(sortedByLogit(a, itemTokenIds).slice(0, 5));
    expect([...second.top(5)]).toEqual(sortedByLogit(b, itemTokenIds).slice(0, 5));
    // A pass after the memory grew for the probabilities (their first call) reads the new views.
    expect([...second.top(300)]).toEqual(sortedByLogit(b, itemTokenIds).slice(0, 300));
  });
});
