/**
 * The new-items protocol (issue 21 part 2) on a hand-made fixture: which items are new,
 * what training and validation keep, the test examples, the attribute-only baseline and
 * the metrics apart for new and known targets.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { encodeSequences, ItemIndex } from '../src/data/item-index.js';
import { readSequences } from '../src/data/research.js';
import {
  AttributeRecommender,
  coldItemSplit,
  evaluateColdItems,
  newItemsByRawId,
  parseItemAttributes,
  readItemAttributes,
  withoutNewItems,
} from '../src/eval/cold-items.js';
import type { Recommender } from '../src/eval/metrics.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

async function load() {
  const raw = await readSequences(fixture('cold-items.txt'));
  const items = ItemIndex.fromSequences(raw.sequences);
  const dense = encodeSequences(raw.sequences, items).sequences;
  const attributes = await readItemAttributes(fixture('cold-items-attributes.json'), items);
  const isNew = newItemsByRawId(items.rawIds);
  return { items, dense, attributes, isNew, split: coldItemSplit(dense, isNew) };
}

const raw = (items: ItemIndex, dense: ArrayLike<number>) => Array.from(dense, (i) => items.rawId(i));

describe('new-items protocol', () => {
  it('marks ids divisible by 10 as new and keeps every interaction with them out of training and validation', async () => {
    const { items, isNew, split } = await load();
    expect(items.rawIds.filter((_, i) => isNew[i])).toEqual(['10', '20']);
    expect([...split.train].map((s) => raw(items, s))).toEqual([['1'], ['11'], ['2', '11']]);
    expect(split.tooShort).toBe(1);
    // u3's second-to-last item (20) is new: no validation example for u3.
    expect(split.validation.prefixes.map((p) => raw(items, p))).toEqual([['1'], ['11']]);
    expect(raw(items, split.validation.targets)).toEqual(['2', '12']);
    // The test keeps the whole history, new items included.
    expect(split.test.prefixes.map((p) => raw(items, p))).toEqual([['1', '10', '2'], ['11', '12'], ['2', '11', '20']]);
    expect(raw(items, split.test.targets)).toEqual(['3', '20', '21']);
    expect(split.popularity[items.indexOf('10')]).toBe(0);
    expect(split.popularity[items.indexOf('20')]).toBe(0);
    expect(split.popularity[items.indexOf('11')]).toBe(2);
  });

  it('reads attributes for the indexed items only, numbered densely', async () => {
    const { items, attributes } = await load();
    expect(attributes.count).toBe(5); // 7, 8, 9, 100, 101 (999's attribute 5 is not an indexed item's)
    expect(attributes.covered).toBe(items.size);
    expect([...attributes.byItem[items.indexOf('11')]!]).toEqual([1, 3]);
    expect(() => parseItemAttributes({ '1': 'x' }, items)).toThrow(/list of attribute ids/);
  });

  it('the attribute-only baseline ranks a new item that shares the history attributes first, history masked', async () => {
    const { items, attributes, split } = await load();
    const metrics = await evaluateColdItems(new AttributeRecommender(attributes), split, items.rawIds);
    expect(metrics.examples).toEqual({ new: 1, known: 2 });
    // u2 (history 11 12, brand 8): 20 is the only unmasked item of brand 8.
    expect(metrics.new['MRR@5']).toBe(1);
    expect(metrics.new['NDCG@10']).toBe(1);
    // u1 (history 1 10 2: attributes 7, 100): 11, 12 and 20 share 100 and rank above 3 (no shared attribute),
    // which wins its tie with 21 by raw id: rank 4. u3: 1, 10, 12 above 21, and 3 wins the tie: rank 5.
    expect(metrics.known['HR@5']).toBe(1);
    expect(metrics.known['MRR@5']).toBeCloseTo((1 / 4 + 1 / 5) / 2, 12);
    expect(metrics.all['HR@10']).toBeCloseTo((metrics.new['HR@10']! * 1 + metrics.known['HR@10']! * 2) / 3, 12);
  });

  it('a model without attributes gets the test prefixes without new items, and the mask still covers them', async () => {
    const { items, split } = await load();
    const seen: string[][] = [];
    const newIndex = items.indexOf('20');
    const stub: Recommender = {
      name: 'stub',
      // Scores the new item 20 highest: it is masked for u3, whose history holds it.
      score: (prefixes) => prefixes.map((p) => (seen.push(raw(items, p)), Float32Array.from({ length: items.size }, (_, i) => (i === newIndex ? 10 : 0)))),
    };
    const metrics = await evaluateColdItems(withoutNewItems(stub, split.isNew), split, items.rawIds);
    expect(seen).toEqual([['11', '12'], ['1', '2'], ['2', '11']]);
    expect(metrics.new['MRR@5']).toBe(1);
    // u1: 20 and the more popular 11 outrank 3 (rank 3). u3: 20 is masked; 1 (more popular)
    // and 3, 10, 12 (lower raw ids) win their ties with 21 (rank 5).
    expect(metrics.known['MRR@5']).toBeCloseTo((1 / 3 + 1 / 5) / 2, 12);
  });
});
