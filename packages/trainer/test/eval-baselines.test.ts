import { describe, expect, it } from 'vitest';
import { countItems, SequenceSet } from '../src/data/sequence-set.js';
import { MarkovRecommender } from '../src/eval/baselines/markov.js';
import { PopularityRecommender } from '../src/eval/baselines/popularity.js';
import { SknnRecommender } from '../src/eval/baselines/sknn.js';
import { evaluateRecommender } from '../src/eval/metrics.js';
import { sessionExamples } from '../src/eval/protocols.js';

// Dense items 0..4; item 4 never occurs in training.
const train = SequenceSet.from([[0, 1, 2], [1, 2], [2, 0], [1, 1, 3]]);
const numItems = 5;
const rawIds = ['10', '11', '12', '13', '14'];
const prefix = (...items: number[]) => Int32Array.from(items);
const close = (actual: Float32Array, expected: number[]) =>
  expected.forEach((value, i) => expect(actual[i]).toBeCloseTo(value, 6));

describe('PopularityRecommender', () => {
  it('scores every prefix by training counts', () => {
    const counts = countItems(train, numItems);
    const [a, b] = new PopularityRecommender(counts).score([prefix(0), prefix()]);
    expect([...a!]).toEqual([2, 4, 3, 1, 0]);
    expect([...b!]).toEqual([2, 4, 3, 1, 0]);
  });
});

describe('MarkovRecommender', () => {
  // Pairs: 0->1, 1->2 (twice), 2->0, 1->1, 1->3.
  const markov = new MarkovRecommender(train, numItems);

  it('scores successors of the last item by transition counts', () => {
    const [last1, last2] = markov.score([prefix(0, 1), prefix(1, 2)]);
    expect([...last1!]).toEqual([0, 1, 2, 1, 0]);
    expect([...last2!]).toEqual([1, 0, 0, 0, 0]);
  });

  it('scores all zero for an unseen last item or an empty prefix (popularity via the tie-break)', () => {
    const [unseen, empty] = markov.score([prefix(4), prefix()]);
    expect([...unseen!]).toEqual([0, 0, 0, 0, 0]);
    expect([...empty!]).toEqual([0, 0, 0, 0, 0]);
  });

  it('can count both directions', () => {
    const [scores] = new MarkovRecommender(train, numItems, { bidirectional: true }).score([prefix(2)]);
    // Forward 2->0 once; the pair 1->2 (twice) also counts as 2->1.
    expect([...scores!]).toEqual([1, 2, 0, 0, 0]);
  });

  it('ranks by counts, then by popularity, in a full evaluation', async () => {
    // Session [0, 1, 3]: prefix [0, 1] -> 3 (counts 0:0 1:1 2:2 3:1: rank 3, since 1 beats 3
    // on popularity); prefix [0] -> 1 (rank 1).
    const examples = sessionExamples(SequenceSet.from([[0, 1, 3]]));
    const popularity = countItems(train, numItems);
    const result = await evaluateRecommender(markov, examples, { ks: [1, 3], popularity, rawIds });
    expect(result.metrics['P@1']).toBe(0.5);
    expect(result.metrics['MRR@3']).toBeCloseTo((1 / 3 + 1) / 2, 12);
  });
});

describe('SknnRecommender', () => {
  // Item sets: S0 {0,1,2}, S1 {1,2}, S2 {0,2}, S3 {1,3} (S3 the most recent).
  it('sums cosine similarities of the neighbours containing each item', () => {
    const [scores] = new SknnRecommender(train, numItems).score([prefix(0, 2, 2)]);
    // S0: 2/sqrt(2*3), S1: 1/sqrt(2*2), S2: 2/sqrt(2*2); S3 shares nothing.
    const s0 = 2 / Math.sqrt(6);
    close(scores!, [s0 + 1, s0 + 0.5, s0 + 0.5 + 1, 0, 0]);
  });

  it('takes only the most recent candidates sharing an item', () => {
    const [scores] = new SknnRecommender(train, numItems, { sampleSize: 2 }).score([prefix(0, 2)]);
    // Candidates S2 and S1 (the most recent with item 0 or 2); S0 is older.
    close(scores!, [1, 0.5, 1.5, 0, 0]);
  });

  it('keeps the k most similar, the more recent winning a tie', () => {
    const sknn = (k: number) => new SknnRecommender(train, numItems, { k });
    // Prefix {1, 4}: S3 and S1 score 1/sqrt(4) = 0.5, S0 1/sqrt(6).
    close(sknn(2).score([prefix(1, 4)])[0]!, [0, 1, 0.5, 0.5, 0]);
    close(sknn(1).score([prefix(1, 4)])[0]!, [0, 0.5, 0, 0.5, 0]);
    close(sknn(3).score([prefix(1, 4)])[0]!, [1 / Math.sqrt(6), 1 + 1 / Math.sqrt(6), 0.5 + 1 / Math.sqrt(6), 0.5, 0]);
  });

  it('gives the same scores sparse, for the items it touches only, and leaves out the session it is told to', () => {
    const sknn = new SknnRecommender(train, numItems);
    const dense = (p: Int32Array) => [...sknn.score([p])[0]!];
    const sparse = (p: Int32Array, exclude?: number) => {
      const { items, scores } = sknn.sparseScores(p, exclude);
      const out = new Array<number>(numItems).fill(0);
      items.forEach((item, i) => (out[item] = scores[i]!));
      return { out, touched: [...items].sort() };
    };
    for (const p of [prefix(0, 2, 2), prefix(1, 4), prefix(3)]) close(Float32Array.from(sparse(p).out), dense(p));
    expect(sparse(prefix(0, 2, 2)).touched).toEqual([0, 1, 2]);
    // Prefix {3} has one neighbour, S3 {1,3}: left out, nothing is scored; S0 left out of {0,2}'s.
    expect(sparse(prefix(3), 3).touched).toEqual([]);
    close(Float32Array.from(sparse(prefix(0, 2), 0).out), [1, 0.5, 1.5, 0, 0]);
    // A left-out session does not use up one of the sampleSize candidates.
    const two = new SknnRecommender(train, numItems, { sampleSize: 2 }).sparseScores(prefix(0, 2), 2);
    expect([...two.items].sort()).toEqual([0, 1, 2]);
  });

  it('scores zero when nothing is shared, and reuses clean buffers', () => {
    const sknn = new SknnRecommender(train, numItems);
    sknn.score([prefix(0, 1, 2)]);
    const [scores] = sknn.score([prefix(4)]);
    expect([...scores!]).toEqual([0, 0, 0, 0, 0]);
  });
});
