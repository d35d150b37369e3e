import { describe, expect, it } from 'vitest';
import { countItems, SequenceSet } from '../src/data/sequence-set.js';
import { MarkovRecommender } from '../src/eval/baselines/markov.js';
import { PopularityRecommender } from '../src/eval/baselines/popularity.js';
import { SknnRecommender } from '../src/eval/baselines/sknn.js';
import { StanRecommender } from '../src/eval/baselines/stan.js';
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

  it('scores zero when nothing is shared, and reuses clean buffers', () => {
    const sknn = new SknnRecommender(train, numItems);
    sknn.score([prefix(0, 1, 2)]);
    const [scores] = sknn.score([prefix(4)]);
    expect([...scores!]).toEqual([0, 0, 0, 0, 0]);
  });
});

describe('StanRecommender', () => {
  // Sessions in first-seen order: S0 [0,1,2], S1 [1,2], S2 [2,0], S3 [1,3] (S3 the most recent).
  const e = Math.exp(-1);

  it('is session-kNN when nothing decays and idf is off', () => {
    const flat = new StanRecommender(train, numItems, { k: 100, prefixDecay: 1e12, neighbourDecay: 1e12, idf: false });
    const sknn = new SknnRecommender(train, numItems, { k: 100 });
    for (const items of [[0, 2, 2], [1, 4], [3], [2, 0, 1]]) close(flat.score([prefix(...items)])[0]!, [...sknn.score([prefix(...items)])[0]!]);
  });

  it('weighs prefix items by recency and neighbour items by distance from the last shared one', () => {
    const stan = new StanRecommender(train, numItems, { prefixDecay: 1, neighbourDecay: 1, idf: false });
    // Prefix [2, 0]: item 0 (the latest) weighs 1, item 2 weighs e^-1.
    const s2 = (1 + e) / 2; // S2 shares both; its last shared item is 0, at position 1
    const s1 = e / 2; // S1 shares 2, at position 1
    const s0 = (1 + e) / Math.sqrt(6); // S0 shares both; its last shared item is 0, at position 0
    const expected = [s2 + s0, (s1 + s0) * e, s2 * e + s1 + s0 * e * e, 0, 0];
    close(stan.score([prefix(2, 0)])[0]!, expected);
    // An item's latest view is what counts: [0, 2, 0] is [2, 0], and [0, 2] is not.
    close(stan.score([prefix(0, 2, 0)])[0]!, expected);
    expect(stan.score([prefix(0, 2)])[0]![0]).not.toBeCloseTo(expected[0]!, 3);
  });

  it('weighs shared items by their idf', () => {
    const flat = { k: 100, prefixDecay: 1e12, neighbourDecay: 1e12 };
    const [plain] = new StanRecommender(train, numItems, { ...flat, idf: false }).score([prefix(1)]).map((s) => [...s]);
    // Item 1 is in 3 of the 4 sessions.
    close(new StanRecommender(train, numItems, flat).score([prefix(1)])[0]!, plain!.map((v) => v * Math.log(4 / 3)));
  });
});

describe.each([
  ['SknnRecommender', (options: { sampleSize?: number }) => new SknnRecommender(train, numItems, options)],
  ['StanRecommender', (options: { sampleSize?: number }) => new StanRecommender(train, numItems, options)],
])('%s.sparseScores', (_, create) => {
  const dense = (sparse: { items: Int32Array; scores: Float64Array }) => {
    const scores = new Array<number>(numItems).fill(0);
    sparse.items.forEach((item, i) => (scores[item] = sparse.scores[i]!));
    return scores;
  };

  it('gives the scores of score(), only for the items neighbours hold', () => {
    const recommender = create({});
    for (const items of [[0, 2, 2], [1, 4], [3], [2, 0, 1], [4]]) {
      const sparse = recommender.sparseScores(prefix(...items));
      expect(new Set(sparse.items).size).toBe(sparse.items.length);
      close(recommender.score([prefix(...items)])[0]!, dense(sparse));
    }
    expect(recommender.sparseScores(prefix(4)).items).toHaveLength(0); // nothing shared
  });

  it('leaves the excluded session out of the neighbours', () => {
    // Prefix [3]: only S3 [1, 3] holds item 3, so without it nothing is scored.
    expect([...create({}).sparseScores(prefix(3)).items].sort()).toEqual([1, 3]);
    expect(create({}).sparseScores(prefix(3), 3).items).toHaveLength(0);
    // Prefix [0]: S2 [2, 0] and S0 [0, 1, 2]; with a sample of one, leaving out S2 (the most recent) brings S0 in.
    expect([...create({ sampleSize: 1 }).sparseScores(prefix(0)).items].sort()).toEqual([0, 2]);
    expect([...create({ sampleSize: 1 }).sparseScores(prefix(0), 2).items].sort()).toEqual([0, 1, 2]);
  });
});
