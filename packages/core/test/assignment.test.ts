import { describe, expect, it } from 'vitest';
import { assign, bucket, DEFAULT_HOLDOUT, fnv1a32, inHoldout, variantRanges, type ExperimentConfig } from '../src/experiments/assignment.js';

/** Seeded v4-shaped UUIDs (mulberry32): shopper ids as the SDK makes them, the same on every run. */
function uuids(count: number, seed: number): string[] {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  const hex = (n: number) => next().toString(16).padStart(8, '0').slice(0, n);
  return Array.from({ length: count }, () => `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(8)}${hex(4)}`);
}

const ids = uuids(100_000, 42);
/** Sequential ids differ in one or two characters: the hardest case for a string hash. */
const sequentialIds = Array.from({ length: 100_000 }, (_, i) => `shopper-${i}`);

/** Pearson's chi-square statistic of observed counts against expected ones. */
const chiSquare = (observed: number[], expected: number[]) =>
  observed.reduce((sum, o, i) => sum + (o - expected[i]!) ** 2 / expected[i]!, 0);

/** 99.9% quantiles of the chi-square distribution (jstat.chisquare.inv(0.999, df)). */
const CHI2_999 = { 19: 43.82, 81: 126.083 } as const;

describe('fnv1a32', () => {
  it('matches the published FNV-1a 32-bit test vectors', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });
});

describe('bucket', () => {
  it("matches GrowthBook's hash v2 (its SDK test cases: id \"1\" with seeds \"experiment\" and \"holdout\")", () => {
    expect(bucket('experiment', '1')).toBe(0.4413);
    expect(bucket('holdout', '1')).toBe(0.8043);
  });

  it('is deterministic and in [0, 1)', () => {
    for (const id of ids.slice(0, 1000)) {
      const b = bucket('exp-a', id);
      expect(b).toBe(bucket('exp-a', id));
      expect(b).toBeGreaterThanOrEqual(0);
      expect(b).toBeLessThan(1);
    }
  });

  for (const [name, list] of [['UUID', ids], ['sequential', sequentialIds]] as const) {
    it(`is uniform over 20 bins for 100k ${name} ids (chi-square, p > 0.001)`, () => {
      const counts = new Array<number>(20).fill(0);
      for (const id of list) counts[Math.floor(bucket('exp-a', id) * 20)]!++;
      expect(chiSquare(counts, new Array<number>(20).fill(list.length / 20))).toBeLessThan(CHI2_999[19]);
    });

    it(`splits independently under two keys for 100k ${name} ids (10x10 contingency chi-square and correlation)`, () => {
      const table = new Array<number>(100).fill(0);
      let sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
      for (const id of list) {
        const a = bucket('exp-a', id), b = bucket('exp-b', id);
        table[Math.floor(a * 10) * 10 + Math.floor(b * 10)]!++;
        sa += a; sb += b; saa += a * a; sbb += b * b; sab += a * b;
      }
      const n = list.length;
      const rows = Array.from({ length: 10 }, (_, r) => table.slice(r * 10, r * 10 + 10).reduce((s, c) => s + c, 0));
      const cols = Array.from({ length: 10 }, (_, c) => rows.reduce((s, _r, r) => s + table[r * 10 + c]!, 0));
      const expected = table.map((_, k) => (rows[Math.floor(k / 10)]! * cols[k % 10]!) / n);
      expect(chiSquare(table, expected)).toBeLessThan(CHI2_999[81]);
      const r = (sab / n - (sa / n) * (sb / n)) / Math.sqrt((saa / n - (sa / n) ** 2) * (sbb / n - (sb / n) ** 2));
      expect(Math.abs(r)).toBeLessThan(4 / Math.sqrt(n)); // 4 standard errors of a null correlation
    });
  }
});

describe('variantRanges', () => {
  it('gives each variant its share of the weights, scaled by traffic, from where the full share starts', () => {
    expect(variantRanges([1, 1])).toEqual([[0, 0.5], [0.5, 1]]);
    expect(variantRanges([1, 3], 0.5)).toEqual([[0, 0.125], [0.25, 0.625]]);
  });

  it('rejects weights and traffic it cannot use', () => {
    expect(() => variantRanges([0, 0])).toThrow();
    expect(() => variantRanges([1, -1])).toThrow();
    expect(() => variantRanges([1, 1], 1.5)).toThrow();
  });
});

describe('assign', () => {
  const experiment: ExperimentConfig = { key: 'recs-v2', weights: [1, 1, 2], traffic: 0.3 };

  it('holds out the default 10% on its own key, and enrolls traffic x weights of the rest', () => {
    const counts = { holdout: 0, traffic: 0, variants: [0, 0, 0] };
    for (const id of ids) {
      const a = assign(id, experiment);
      if (a.enrolled) counts.variants[a.variant]!++;
      else counts[a.reason]++;
    }
    const n = ids.length;
    const expected = [0.1, 0.9 * 0.7, 0.9 * 0.3 * 0.25, 0.9 * 0.3 * 0.25, 0.9 * 0.3 * 0.5].map((p) => p * n);
    const observed = [counts.holdout, counts.traffic, ...counts.variants];
    // Every share within 4 binomial standard errors of its target, and the whole split plausible.
    observed.forEach((o, i) => expect(Math.abs(o - expected[i]!)).toBeLessThan(4 * Math.sqrt(expected[i]! * (1 - expected[i]! / n))));
    expect(chiSquare(observed, expected)).toBeLessThan(18.467); // df 4: its 99.9% quantile
  });

  it('is sticky: the same id always gets the same variant, and raising traffic moves nobody already enrolled', () => {
    const wider = { ...experiment, traffic: 0.6 };
    let stayed = 0;
    for (const id of ids.slice(0, 20_000)) {
      const before = assign(id, experiment);
      expect(assign(id, experiment)).toEqual(before);
      if (before.enrolled) {
        expect(assign(id, wider)).toEqual(before);
        stayed++;
      }
    }
    expect(stayed).toBeGreaterThan(4000);
  });

  it('splits the holdout independently of the experiment: the variant shares are the same in and out of it', () => {
    const even: ExperimentConfig = { key: 'recs-v2', weights: [1, 1] };
    const table = [0, 0, 0, 0]; // [holdout?][variant]
    for (const id of ids) {
      const a = assign(id, even, null);
      if (!a.enrolled) throw new Error('full traffic with no holdout enrolls everyone');
      table[(inHoldout(id) ? 2 : 0) + a.variant]!++;
    }
    const n = ids.length;
    const rows = [table[0]! + table[1]!, table[2]! + table[3]!];
    const cols = [table[0]! + table[2]!, table[1]! + table[3]!];
    const expected = table.map((_, k) => (rows[k >> 1]! * cols[k & 1]!) / n);
    expect(chiSquare(table, expected)).toBeLessThan(10.828); // df 1
    expect(Math.abs(rows[1]! / n - DEFAULT_HOLDOUT.share)).toBeLessThan(4 * Math.sqrt(0.09 / n));
  });

  it('enrolls nobody held out, and everyone else at full traffic', () => {
    for (const id of ids.slice(0, 5000)) {
      const a = assign(id, { key: 'k', weights: [1] });
      expect(a.enrolled).toBe(!inHoldout(id));
    }
  });
});
