import { describe, expect, it } from 'vitest';
import { evaluateRecommender, MetricAccumulator, type Recommender } from '../src/eval/metrics.js';
import type { Examples } from '../src/eval/protocols.js';
import { Ranker, tieBreakRanks } from '../src/eval/ranking.js';

// Five items. Tie-break order (popularity desc, then lower raw id): 4 ('1', pop 9),
// 1 ('7', pop 9), 2 ('2', pop 5), 0 ('3', pop 5), 3 ('5', pop 1).
const popularity = [5, 9, 5, 1, 9];
const rawIds = ['3', '7', '2', '5', '1'];
const scores = Float32Array.from([0.5, 0.2, 0.5, 0.9, 0.5]);
// Full ranking of `scores`: 3 (0.9), then the 0.5 tie 4, 2, 0, then 1.

describe('tieBreakRanks', () => {
  it('orders by popularity, then by lower raw id (numerically)', () => {
    expect([...tieBreakRanks(popularity, rawIds)]).toEqual([3, 1, 2, 4, 0]);
    expect([...tieBreakRanks([1, 1, 1], ['10', '9', '100'])]).toEqual([1, 0, 2]);
  });

  it('rejects mismatched lengths', () => {
    expect(() => tieBreakRanks([1], ['1', '2'])).toThrow(/1 popularity counts for 2 items/);
  });
});

describe('Ranker', () => {
  const ranker = new Ranker(tieBreakRanks(popularity, rawIds));

  it('counts strictly higher scores plus ties won by the tie-break', () => {
    expect([0, 1, 2, 3, 4].map((target) => ranker.rank(scores, target))).toEqual([4, 5, 3, 1, 2]);
  });

  it('does not count excluded items (duplicates once), never excludes the target', () => {
    expect(ranker.rank(scores, 0, [3, 4, 4, 0])).toBe(2);
    // Excluding items ranked below the target changes nothing.
    expect(ranker.rank(scores, 2, [0, 1])).toBe(3);
    expect(ranker.rank(scores, 3, [3])).toBe(1);
  });

  it('ranks NaN scores last and refuses a NaN target', () => {
    const withNaN = Float32Array.from([NaN, 0.1, 0.1, NaN, 0]);
    expect(ranker.rank(withNaN, 4)).toBe(3);
    expect(() => ranker.rank(withNaN, 0)).toThrow(/NaN score/);
  });

  it('rejects a score array of the wrong length', () => {
    expect(() => ranker.rank(Float32Array.from([1, 2]), 0)).toThrow(/2 scores for 5 items/);
  });

  it('extracts the top K with the same tie-break and exclusions', () => {
    expect([...ranker.topK(scores, 3)]).toEqual([3, 4, 2]);
    expect([...ranker.topK(scores, 10)]).toEqual([3, 4, 2, 0, 1]);
    expect([...ranker.topK(scores, 3, [3, 2])]).toEqual([4, 0, 1]);
    expect([...ranker.topK(Float32Array.from([NaN, 1, NaN, 2, NaN]), 3)]).toEqual([3, 1]);
    expect([...ranker.topK(new Float32Array(5), 5)]).toEqual([4, 1, 2, 0, 3]);
  });

  it('agrees with a full sort on random scores with many ties', () => {
    const n = 200;
    const tie = tieBreakRanks(
      Array.from({ length: n }, (_, i) => (i * 7) % 5),
      Array.from({ length: n }, (_, i) => String((i * 37) % n)),
    );
    const big = new Ranker(tie);
    const random = Float32Array.from({ length: n }, (_, i) => ((i * 7919) % 13) / 4);
    const sorted = Array.from({ length: n }, (_, i) => i).sort((a, b) => random[b]! - random[a]! || tie[a]! - tie[b]!);
    expect([...big.topK(random, 20)]).toEqual(sorted.slice(0, 20));
    sorted.forEach((item, position) => expect(big.rank(random, item)).toBe(position + 1));
  });
});

describe('MetricAccumulator', () => {
  it('computes P/HR, MRR and NDCG at K, counting rank K and not K+1', () => {
    const accumulator = new MetricAccumulator([1, 3]);
    for (const rank of [1, 2, 3, 4]) accumulator.add(rank);
    const m = accumulator.result();
    expect(accumulator.count).toBe(4);
    expect(m['P@1']).toBe(0.25);
    expect(m['HR@1']).toBe(0.25);
    expect(m['MRR@1']).toBe(0.25);
    expect(m['NDCG@1']).toBe(0.25);
    expect(m['P@3']).toBe(0.75);
    expect(m['HR@3']).toBe(0.75);
    expect(m['MRR@3']).toBeCloseTo(11 / 24, 12);
    expect(m['NDCG@3']).toBeCloseTo((1 + 1 / Math.log2(3) + 0.5) / 4, 12);
  });

  it('defaults to K = 5, 10, 20 and gives zeros without examples', () => {
    const m = new MetricAccumulator().result();
    expect(Object.keys(m)).toEqual(['P@5', 'HR@5', 'MRR@5', 'NDCG@5', 'P@10', 'HR@10', 'MRR@10', 'NDCG@10', 'P@20', 'HR@20', 'MRR@20', 'NDCG@20']);
    expect(Object.values(m).every((v) => v === 0)).toBe(true);
  });

  it('rejects bad K and bad ranks', () => {
    expect(() => new MetricAccumulator([0])).toThrow(/bad K/);
    expect(() => new MetricAccumulator().add(0)).toThrow(/bad rank/);
  });
});

describe('evaluateRecommender', () => {
  const examples: Examples = {
    prefixes: [Int32Array.from([3]), Int32Array.from([0, 3])],
    targets: Int32Array.from([0, 4]),
    sources: Int32Array.from([0, 1]),
  };
  const batches: number[] = [];
  const constant: Recommender = {
    name: 'constant',
    score(prefixes) {
      batches.push(prefixes.length);
      return prefixes.map(() => scores);
    },
  };

  it('ranks every target over all items', async () => {
    batches.length = 0;
    const result = await evaluateRecommender(constant, examples, { ks: [2, 4], batchSize: 1, popularity, rawIds });
    // Ranks 4 and 2.
    expect(batches).toEqual([1, 1]);
    expect(result.examples).toBe(2);
    expect(result.metrics['P@2']).toBe(0.5);
    expect(result.metrics['MRR@2']).toBe(0.25);
    expect(result.metrics['NDCG@2']).toBeCloseTo(1 / Math.log2(3) / 2, 12);
    expect(result.metrics['P@4']).toBe(1);
    expect(result.metrics['MRR@4']).toBe(0.375);
    expect(result.metrics['NDCG@4']).toBeCloseTo((1 / Math.log2(5) + 1 / Math.log2(3)) / 2, 12);
  });

  it('masks the history and reports the top K raw ids per example', async () => {
    const tops: Array<[number, string[]]> = [];
    const result = await evaluateRecommender(constant, examples, {
      ks: [1, 3],
      mask: 'history',
      popularity,
      rawIds,
      topK: 2,
      onTopK: (top, example) => tops.push([example, top]),
    });
    // Ranks 3 (item 3 masked) and 1 (items 0 and 3 masked).
    expect(result.metrics['P@1']).toBe(0.5);
    expect(result.metrics['MRR@3']).toBeCloseTo((1 / 3 + 1) / 2, 12);
    expect(tops).toEqual([
      [0, ['1', '2']],
      [1, ['1', '2']],
    ]);
  });

  it('rejects a recommender that returns the wrong number of score arrays', async () => {
    const broken: Recommender = { name: 'broken', score: () => [] };
    await expect(evaluateRecommender(broken, examples, { popularity, rawIds })).rejects.toThrow(/broken: 0 score arrays for 2 prefixes/);
  });
});
