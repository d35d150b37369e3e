import { describe, expect, it } from 'vitest';
import {
  absoluteLift,
  alphaSpent,
  armMoments,
  chiSquareSf,
  confidenceSequence,
  covarianceXY,
  cumulativeDailyMoments,
  cuped,
  informationFractions,
  interval,
  meanEstimate,
  meanY,
  mergeMoments,
  mixingVariance,
  mixtureLikelihoodRatio,
  momentsOf,
  normalQuantile,
  optimalMixingRatio,
  ratioEstimate,
  relativeLift,
  repeatedConfidenceIntervals,
  sampleRatioMismatch,
  spendingBoundaries,
  varianceX,
  varianceY,
} from '../src/experiments/index.js';
import { Rng } from '../src/lib/prng.js';

/** Standard deviation of a list (n - 1). */
const sd = (xs: number[]) => {
  const m = xs.reduce((s, x) => s + x, 0) / xs.length;
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1));
};

describe('distributions (jstat)', () => {
  it('gives the textbook quantiles and tail probabilities', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 6);
    expect(chiSquareSf(3.841459, 1)).toBeCloseTo(0.05, 6);
    expect(chiSquareSf(14, 2)).toBeCloseTo(Math.exp(-7), 10); // df 2: the tail is exp(-x/2) exactly
  });
});

describe('moments', () => {
  const m = momentsOf([1, 2, 3, 4], [2, 4, 6, 9]);

  it('gives the hand-computed mean, variances and covariance', () => {
    expect(meanY(m)).toBe(2.5);
    expect(varianceY(m)).toBeCloseTo(5 / 3, 12); // squared deviations 2.25+0.25+0.25+2.25 over 3
    expect(varianceX(m)).toBeCloseTo(26.75 / 3, 12); // x mean 5.25: 10.5625+1.5625+0.5625+14.0625
    expect(covarianceXY(m)).toBeCloseTo(11.5 / 3, 12); // deviation products 4.875+0.625+0.375+5.625
  });

  it('adds up: the moments of two groups merged are those of all shoppers', () => {
    expect(mergeMoments(momentsOf([1, 2], [2, 4]), momentsOf([3, 4], [6, 9]))).toEqual(m);
  });

  it('groups rows by arm, and cumulatively by day', () => {
    const rows = { arm: [0, 1, 0, -1, 1], y: [1, 2, 3, 100, 5] };
    const [a, b] = armMoments(rows, 2);
    expect([a!.n, a!.sumY, b!.n, b!.sumY]).toEqual([2, 4, 2, 7]);
    const daily = cumulativeDailyMoments(rows, [0, 0, 1, 0, 2], 3, 2);
    expect(daily.map((arms) => arms.map((x) => x.sumY))).toEqual([[1, 2], [4, 2], [4, 7]]);
  });
});

describe('lift', () => {
  const treatment = { value: 0.12, se: 0.03 };
  const control = { value: 0.1, se: 0.04 };

  it('absolute: the difference, variances added, a normal interval and p-value', () => {
    const d = absoluteLift(treatment, control);
    expect(d.value).toBeCloseTo(0.02, 12);
    expect(d.se).toBeCloseTo(0.05, 12);
    expect(d.low).toBeCloseTo(0.02 - 1.959964 * 0.05, 6);
    expect(d.high).toBeCloseTo(0.02 + 1.959964 * 0.05, 6);
    expect(d.pValue).toBeCloseTo(0.689157, 6); // 2(1 - Φ(0.4))
  });

  it('relative: T/C - 1 with the delta-method variance Var(T)/C² + T²Var(C)/C⁴', () => {
    const r = relativeLift(treatment, control);
    expect(r.value).toBeCloseTo(0.2, 12);
    expect(r.se).toBeCloseTo(Math.sqrt(0.09 + 0.2304), 12);
  });

  it('the mean estimate has standard error sqrt(s²/n)', () => {
    const e = meanEstimate(momentsOf([1, 2, 3, 4]));
    expect(e.se).toBeCloseTo(Math.sqrt(5 / 3 / 4), 12);
    expect(interval(e, 0.1).high).toBeCloseTo(2.5 + 1.644854 * e.se, 6);
  });

  // Two arms of revenue-like data (mostly zeros, lognormal when positive) on a fixed seed.
  const rng = new Rng(2024);
  const revenue = (n: number, rate: number) =>
    Array.from({ length: n }, () => (rng.next() < rate ? 50 * Math.exp(0.8 * rng.normal()) : 0));
  const armA = revenue(3000, 0.06);
  const armB = revenue(3000, 0.07);
  const resample = (xs: number[]) => {
    let s = 0;
    for (let i = 0; i < xs.length; i++) s += xs[rng.int(xs.length)]!;
    return s / xs.length;
  };

  it("relative lift's delta-method standard error matches a bootstrap's (2,000 resamples, within 10%)", () => {
    const r = relativeLift(meanEstimate(momentsOf(armB)), meanEstimate(momentsOf(armA)));
    const boot = Array.from({ length: 2000 }, () => resample(armB) / resample(armA) - 1);
    expect(r.se / sd(boot)).toBeGreaterThan(0.9);
    expect(r.se / sd(boot)).toBeLessThan(1.1);
  });
});

describe('ratioEstimate (clicks / impressions, shoppers randomised)', () => {
  // Shoppers see 1-20 tiles each and click at their own rate: clicks cluster within shoppers.
  const rng = new Rng(7);
  const shoppers = Array.from({ length: 2000 }, () => {
    const impressions = 1 + rng.int(20);
    const rate = Math.min(1, 0.1 * Math.exp(1.2 * rng.normal() - 0.72));
    let clicks = 0;
    for (let k = 0; k < impressions; k++) if (rng.next() < rate) clicks++;
    return { clicks, impressions };
  });
  const m = momentsOf(shoppers.map((s) => s.clicks), shoppers.map((s) => s.impressions));
  const r = ratioEstimate(m);

  it('is Σ clicks / Σ impressions', () => {
    expect(r.value).toBeCloseTo(m.sumY / m.sumX, 12);
  });

  it('has the standard error a bootstrap over shoppers gives (within 10%), larger than the binomial one over impressions', () => {
    const boot = Array.from({ length: 2000 }, () => {
      let clicks = 0, impressions = 0;
      for (let i = 0; i < shoppers.length; i++) {
        const s = shoppers[rng.int(shoppers.length)]!;
        clicks += s.clicks;
        impressions += s.impressions;
      }
      return clicks / impressions;
    });
    expect(r.se / sd(boot)).toBeGreaterThan(0.9);
    expect(r.se / sd(boot)).toBeLessThan(1.1);
    const binomial = Math.sqrt((r.value * (1 - r.value)) / m.sumX);
    expect(r.se).toBeGreaterThan(1.3 * binomial);
  });
});

describe('sampleRatioMismatch', () => {
  it('computes the textbook chi-square: [50, 30, 20] against equal weights is 14.0, p = exp(-7)', () => {
    const srm = sampleRatioMismatch([50, 30, 20], [1, 1, 1]);
    expect(srm.chiSquare).toBeCloseTo(14, 10);
    expect(srm.dof).toBe(2);
    expect(srm.pValue).toBeCloseTo(Math.exp(-7), 10);
    expect(srm.mismatch).toBe(true); // 0.000912 < 0.001
  });

  it('flags 10,210 / 9,790 against 50/50 only below 0.001 (chi-square 8.82, p = 0.003)', () => {
    const srm = sampleRatioMismatch([10210, 9790], [50, 50]);
    expect(srm.chiSquare).toBeCloseTo(8.82, 10);
    expect(srm.pValue).toBeCloseTo(0.00298, 5);
    expect(srm.mismatch).toBe(false);
    expect(sampleRatioMismatch([10210, 9790], [50, 50], 0.01).mismatch).toBe(true);
  });

  it('uses the configured weights', () => {
    expect(sampleRatioMismatch([9000, 1000], [9, 1]).chiSquare).toBe(0);
    expect(sampleRatioMismatch([5000, 5000], [9, 1]).mismatch).toBe(true);
  });
});

describe('cuped', () => {
  it('removes everything a covariate explains exactly: Y = 3 + 2X gives θ = 2, ρ = 1, no variance left', () => {
    const x = [1, 4, 2, 8, 5, 7];
    const arm = [0, 1, 0, 1, 0, 1];
    const y = x.map((v, i) => 3 + 2 * v + (arm[i] === 1 ? 1 : 0)); // +1 in arm 1
    const result = cuped(armMoments({ arm, y, x }, 2));
    expect(result.theta).toBeCloseTo(2, 12);
    expect(result.correlation).toBeCloseTo(1, 12);
    expect(result.varianceReduction).toBeCloseTo(1, 12);
    expect(result.arms[1]!.value - result.arms[0]!.value).toBeCloseTo(1, 12); // the effect, free of X's imbalance
  });

  it("matches the adjusted column computed by hand, and reduces the variance by about ρ²", () => {
    const rng = new Rng(5);
    const n = 20_000;
    const x = Array.from({ length: n }, () => rng.normal());
    const arm = Array.from({ length: n }, () => rng.int(2));
    const y = x.map((v, i) => 0.6 * v + 0.8 * rng.normal() + 0.1 * arm[i]!); // ρ = 0.6
    const result = cuped(armMoments({ arm, y, x }, 2));
    const xBar = x.reduce((s, v) => s + v, 0) / n;
    const adjusted = y.map((v, i) => v - result.theta * (x[i]! - xBar));
    const byHand = armMoments({ arm, y: adjusted }, 2).map(meanEstimate);
    for (const a of [0, 1]) {
      expect(result.arms[a]!.value).toBeCloseTo(byHand[a]!.value, 10);
      expect(result.arms[a]!.se).toBeCloseTo(byHand[a]!.se, 10);
    }
    expect(result.correlation).toBeCloseTo(0.6, 1);
    expect(result.varianceReduction).toBeCloseTo(result.correlation ** 2, 2);
  });
});

describe('sequential (normal-mixture mSPRT)', () => {
  it('computes the mixture likelihood ratio by hand: V = 1, τ² = 1, d = 2 gives sqrt(1/2)·e', () => {
    expect(mixtureLikelihoodRatio({ value: 2, se: 1 }, 1)).toBeCloseTo(Math.SQRT1_2 * Math.E, 12);
  });

  it('tunes τ² near the optimum: r = 2 log 20 + log(1 + 2 log 20) = 7.94 for α = 0.05', () => {
    expect(optimalMixingRatio(0.05)).toBeCloseTo(7.936, 3);
    expect(mixingVariance(2, 0.05)).toBeCloseTo(2 * 7.936, 2);
    const width = (r: number) => (1 + 1 / r) * (Math.log(1 + r) + 2 * Math.log(20));
    for (const r of [4, 6, 10, 14]) expect(width(optimalMixingRatio())).toBeLessThan(width(r));
  });

  it('is 1.55x the fixed-horizon interval at the planned horizon, wider early, and agrees with its p-value', () => {
    const tau2 = mixingVariance(1);
    const atPlan = confidenceSequence({ value: 0, se: 1 }, tau2);
    expect((atPlan.high - atPlan.low) / (2 * 1.959964)).toBeCloseTo(1.5486, 3);
    const early = confidenceSequence({ value: 0, se: 3 }, tau2);
    expect((early.high - early.low) / (2 * 1.959964 * 3)).toBeGreaterThan(1.7);
    for (const value of [0.5, 2, 2.9, 3.1, 4]) {
      const cs = confidenceSequence({ value, se: 1 }, tau2);
      expect(cs.low > 0).toBe(cs.pValue < 0.05);
    }
  });
});

describe('group-sequential (Lan–DeMets alpha spending)', () => {
  it("matches the published boundaries: O'Brien–Fleming-type and Pocock-type, 5 equal looks, two-sided α = 0.05", () => {
    // DeMets & Lan (Stat Med 1994) and ldbounds / gsDesign: 4.877, 3.357, 2.680, 2.290, 2.031; Pocock-type 2.438, 2.427, 2.410, 2.397, 2.386.
    const five = [0.2, 0.4, 0.6, 0.8, 1];
    const obf = spendingBoundaries(five);
    [4.8769, 3.3569, 2.6803, 2.2898, 2.031].forEach((c, k) => expect(obf[k]).toBeCloseTo(c, 3));
    const pocock = spendingBoundaries(five, 0.05, 'pocock');
    [2.438, 2.4268, 2.4101, 2.3966, 2.386].forEach((c, k) => expect(pocock[k]).toBeCloseTo(c, 3));
    // The grid is fine enough already: 51 and 1,001 points agree to 5 decimals.
    const coarse = spendingBoundaries(five, 0.05, 'obrien-fleming', { points: 51 });
    const fine = spendingBoundaries(five, 0.05, 'obrien-fleming', { points: 1001 });
    coarse.forEach((c, k) => expect(c).toBeCloseTo(fine[k]!, 5));
  });

  it('reduces to the fixed test with one look, and spends α(t) as documented', () => {
    expect(spendingBoundaries([1])[0]).toBeCloseTo(1.959964, 6);
    expect(spendingBoundaries([1], 0.05, 'pocock')[0]).toBeCloseTo(1.959964, 6);
    expect(spendingBoundaries([1], 0.01)[0]).toBeCloseTo(2.575829, 6);
    expect(alphaSpent(1)).toBeCloseTo(0.05, 12);
    expect(alphaSpent(0)).toBe(0);
    expect(alphaSpent(0.5)).toBeCloseTo(0.00305065, 8); // 4 − 4Φ(2.241403 / √0.5 = 3.169822)
    expect(alphaSpent(0.5, 0.05, 'pocock')).toBeCloseTo(0.05 * Math.log(1 + (Math.E - 1) / 2), 12);
    // A single look at t < 1 spends only α(t).
    expect(spendingBoundaries([0.5])[0]).toBeCloseTo(normalQuantile(1 - alphaSpent(0.5) / 2), 6);
  });

  it('crosses with the spent probability at uneven looks: 20,000 simulated Brownian paths under H0', () => {
    const fractions = [0.05, 0.13, 0.3, 0.31, 0.55, 0.7, 0.9, 1];
    const c = spendingBoundaries(fractions);
    expect(c[0]).toBe(Infinity); // α(0.05) underflows: nothing to spend yet
    expect(c[3]).toBeLessThan(c[2]!);
    const rng = new Rng(7);
    const paths = 20000;
    const crossedBy = fractions.map(() => 0);
    for (let i = 0; i < paths; i++) {
      let w = 0, tPrev = 0, crossed = false;
      fractions.forEach((t, k) => {
        w += Math.sqrt(t - tPrev) * rng.normal();
        tPrev = t;
        if (!crossed && Math.abs(w / Math.sqrt(t)) >= c[k]!) crossed = true;
        if (crossed) crossedBy[k]!++;
      });
    }
    // Monte Carlo sd of a 5% share over 20,000 paths: 0.15 points; 4 sd allowed.
    for (const k of [4, 6, 7]) expect(Math.abs(crossedBy[k]! / paths - alphaSpent(fractions[k]!))).toBeLessThan(0.006);
  });

  it('repeats the last boundary when a look adds no information, and builds estimate ± c·SE intervals', () => {
    expect(informationFractions([100, 500, 1000, 1200], 1000)).toEqual([0.1, 0.5, 1, 1]);
    expect(informationFractions([100, 500, 980], 1000, true)).toEqual([0.1, 0.5, 1]);
    const c = spendingBoundaries([0.5, 0.5, 1, 1]);
    expect(c[1]).toBe(c[0]);
    expect(c[3]).toBe(c[2]);
    const [early, final] = repeatedConfidenceIntervals([{ value: 1, se: 0.4 }, { value: 1, se: 0.5 }], [0.64, 1]);
    const two = spendingBoundaries([0.64, 1]);
    expect(early!.high - early!.low).toBeCloseTo(2 * two[0]! * 0.4, 12);
    expect(final!.boundary).toBe(two[1]);
    expect(final!.boundary).toBeGreaterThan(1.96);
    expect(final!.low > 0).toBe(final!.pValue <= final!.nominalAlpha);
    expect(final!.pValue).toBeCloseTo(2 * (1 - 0.9772499), 6); // z = 2
  });
});
