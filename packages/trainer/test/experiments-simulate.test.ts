import { beforeAll, describe, expect, it } from 'vitest';
import {
  absoluteLift,
  armMoments,
  confidenceSequence,
  cumulativeDailyMoments,
  cuped,
  informationFractions,
  liftResponse,
  meanEstimate,
  mixingVariance,
  NO_EFFECT,
  ratioEstimate,
  relativeLift,
  repeatedConfidenceIntervals,
  simulateExperiment,
  spendingBoundaries,
  simulateShoppers,
  trueMeans,
  type Arm,
  type Effect,
  type Estimate,
} from '../src/experiments/index.js';

const EFFECT: Effect = { purchase: 0.15, orderValue: 0.03, click: 0.1 };
const aa: Arm<Effect>[] = [
  { name: 'control', weight: 1, shown: NO_EFFECT },
  { name: 'same', weight: 1, shown: NO_EFFECT },
];
const ab: Arm<Effect>[] = [
  { name: 'control', weight: 1, shown: NO_EFFECT },
  { name: 'treatment', weight: 1, shown: EFFECT },
];

const run = (seed: number, arms: Arm<Effect>[], shoppers = 5000, days = 14) => {
  const population = simulateShoppers({ shoppers, seed, days });
  return { population, experiment: simulateExperiment({ population, key: `test-${seed}`, arms, response: liftResponse }) };
};

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const variance = (xs: number[]) => xs.reduce((s, x) => s + (x - mean(xs)) ** 2, 0) / (xs.length - 1);
const z = (e: Estimate, truth = 0) => (e.value - truth) / e.se;

describe('simulateShoppers', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    const a = simulateShoppers({ shoppers: 500, seed: 1, days: 7 });
    expect(simulateShoppers({ shoppers: 500, seed: 1, days: 7 })).toEqual(a);
    expect(simulateShoppers({ shoppers: 500, seed: 2, days: 7 }).purchaseLogit).not.toEqual(a.purchaseLogit);
    expect(new Set(a.ids).size).toBe(500);
    expect(Math.max(...a.day)).toBe(6);
  });

  it('has the documented funnel and a pre-period that predicts the window (~6.5% buy, revenue ρ ≈ 0.4)', () => {
    const { population, experiment } = run(3, aa, 40_000);
    const control = experiment.potential[0]!;
    expect(mean([...control.purchased])).toBeGreaterThan(0.055);
    expect(mean([...control.purchased])).toBeLessThan(0.075);
    expect(mean([...control.addedToCart])).toBeGreaterThan(2 * mean([...control.purchased]));
    const all = population.ids.map(() => 0);
    const rho = cuped(armMoments({ arm: all, y: control.revenue, x: population.preRevenue }, 1)).correlation;
    expect(rho).toBeGreaterThan(0.3);
    expect(rho).toBeLessThan(0.5);
  });
});

describe('simulateExperiment', () => {
  it('replays every shopper under every arm with the same luck: no effect, identical outcomes; an effect only adds', () => {
    const same = run(4, aa).experiment;
    expect(same.potential[1]).toEqual(same.potential[0]);
    const { experiment } = run(4, ab);
    const [control, treatment] = experiment.potential;
    for (let i = 0; i < control!.purchases.length; i++) {
      expect(treatment!.purchases[i]).toBeGreaterThanOrEqual(control!.purchases[i]!);
      expect(treatment!.addedToCart[i]).toBeGreaterThanOrEqual(control!.addedToCart[i]!);
      expect(treatment!.clicks[i]).toBeGreaterThanOrEqual(control!.clicks[i]!);
      expect(treatment!.revenue[i]).toBeGreaterThanOrEqual(control!.revenue[i]!);
    }
    const [c, t] = trueMeans(experiment, 'purchased');
    expect(t! / c! - 1).toBeGreaterThan(0.08); // per-visit +15%: fewer new buyers than that, as repeat buyers were buying anyway
    expect(t! / c! - 1).toBeLessThan(0.15);
  });

  it('assigns through @hunch/core: a 10% holdout, and an injected 52/48 imbalance', () => {
    const population = simulateShoppers({ shoppers: 40_000, seed: 9, days: 14 });
    const skewed = simulateExperiment({ population, key: 'skew', arms: aa, response: liftResponse, assignWeights: [52, 48] });
    const enrolled = skewed.counts[0]! + skewed.counts[1]!;
    expect(Math.abs(enrolled / 40_000 - 0.9)).toBeLessThan(4 * Math.sqrt(0.09 / 40_000));
    expect(Math.abs(skewed.counts[0]! / enrolled - 0.52)).toBeLessThan(4 * Math.sqrt(0.25 / enrolled));
    expect([...skewed.arm].filter((a) => a === -1).length).toBe(40_000 - enrolled);
  });
});

describe('estimators on 100 seeded simulated experiments (5,000 shoppers, 14 days)', () => {
  // Were a standard error wrong by a factor sqrt(2) (the variance by 2x), the z-scores'
  // variance would be 0.5 or 2: the bounds [0.6, 1.6] hold 4 standard errors of the
  // sample variance of 100 z-scores (sd 0.14) around 1 and fail at either.
  const EXPERIMENTS = 100;
  let aaRuns: Array<ReturnType<typeof run>> = [];
  let abRuns: Array<ReturnType<typeof run>> = [];
  beforeAll(() => {
    aaRuns = Array.from({ length: EXPERIMENTS }, (_, k) => run(1000 + k, aa));
    abRuns = Array.from({ length: EXPERIMENTS }, (_, k) => run(5000 + k, ab));
  });

  const metrics = {
    conversion: ({ experiment: e }: ReturnType<typeof run>) => armMoments({ arm: e.arm, y: e.observed.purchased }, 2).map(meanEstimate),
    revenue: ({ experiment: e }: ReturnType<typeof run>) => armMoments({ arm: e.arm, y: e.observed.revenue }, 2).map(meanEstimate),
    'click-through (ratio)': ({ experiment: e }: ReturnType<typeof run>) =>
      armMoments({ arm: e.arm, y: e.observed.clicks, x: e.observed.impressions }, 2).map(ratioEstimate),
    'revenue, CUPED': ({ experiment: e, population: p }: ReturnType<typeof run>) =>
      cuped(armMoments({ arm: e.arm, y: e.observed.revenue, x: p.preRevenue }, 2)).arms,
  };

  for (const [name, estimate] of Object.entries(metrics)) {
    it(`A/A ${name}: z-scores of the difference have variance ~1 and mean ~0; false positives at α = 0.05 plausible`, () => {
      const zs = aaRuns.map((r) => {
        const [c, t] = estimate(r);
        return z(absoluteLift(t!, c!));
      });
      expect(variance(zs)).toBeGreaterThan(0.6);
      expect(variance(zs)).toBeLessThan(1.6);
      expect(Math.abs(mean(zs))).toBeLessThan(0.4);
      expect(zs.filter((v) => Math.abs(v) > 1.959964).length).toBeLessThanOrEqual(12);
    });
  }

  it('A/B conversion: the 95% intervals cover the exact true lift (absolute and relative) in >= 88 of 100', () => {
    let absolute = 0, relative = 0;
    const zs: number[] = [];
    for (const r of abRuns) {
      const [c, t] = metrics.conversion(r);
      const [tc, tt] = trueMeans(r.experiment, 'purchased');
      const abs = absoluteLift(t!, c!);
      const rel = relativeLift(t!, c!);
      if (abs.low <= tt! - tc! && tt! - tc! <= abs.high) absolute++;
      if (rel.low <= tt! / tc! - 1 && tt! / tc! - 1 <= rel.high) relative++;
      zs.push(z(abs, tt! - tc!));
    }
    expect(absolute).toBeGreaterThanOrEqual(88);
    expect(relative).toBeGreaterThanOrEqual(88);
    expect(variance(zs)).toBeGreaterThan(0.6);
    expect(variance(zs)).toBeLessThan(1.6);
  });

  it('A/A conversion, looked at daily: the always-valid interval rarely excludes 0 on any day', () => {
    // τ² from the planned horizon's variance, known in advance: the first 20 runs' final variance stands in for history.
    const plan = mean(
      aaRuns.slice(0, 20).map((r) => {
        const [c, t] = metrics.conversion(r);
        return absoluteLift(t!, c!).se ** 2;
      }),
    );
    const tau2 = mixingVariance(plan);
    let everRejected = 0;
    for (const { experiment: e, population: p } of aaRuns.slice(20)) {
      const daily = cumulativeDailyMoments({ arm: e.arm, y: e.observed.purchased }, p.day, p.days, 2);
      const rejected = daily.some(([c, t]) => {
        if (c!.n < 50 || t!.n < 50) return false;
        const cs = confidenceSequence(absoluteLift(meanEstimate(t!), meanEstimate(c!)), tau2);
        return cs.low > 0 || cs.high < 0;
      });
      if (rejected) everRejected++;
    }
    expect(everRejected).toBeLessThanOrEqual(8); // of 80; its guarantee is <= 5%
  });
});

describe('alpha-spending intervals on 300 seeded A/A experiments looked at every day (5,000 shoppers, 14 days)', () => {
  // Planned horizon: 14 days of 5,000 arriving shoppers, 4,500 enrolled after the 10% holdout
  // (a figure known before the data); each day's information fraction is its enrolled count over
  // that, and day 14 is the final analysis (t = 1).
  const RUNS = 300;
  const PLANNED = 4500;
  const counts = { spending: 0, pocock: 0, peeking: 0, final: 0 };
  beforeAll(() => {
    for (let k = 0; k < RUNS; k++) {
      const { experiment: e, population: p } = run(20000 + k, aa);
      const daily = cumulativeDailyMoments({ arm: e.arm, y: e.observed.purchased }, p.day, p.days, 2);
      const estimates = daily.map(([c, t]) => absoluteLift(meanEstimate(t!), meanEstimate(c!)));
      const fractions = informationFractions(daily.map(([c, t]) => c!.n + t!.n), PLANNED, true);
      const rejects = (i: { low: number; high: number }) => i.low > 0 || i.high < 0;
      if (repeatedConfidenceIntervals(estimates, fractions).some(rejects)) counts.spending++;
      if (repeatedConfidenceIntervals(estimates, fractions, 0.05, 'pocock').some(rejects)) counts.pocock++;
      if (estimates.some(rejects)) counts.peeking++;
      if (rejects(estimates[estimates.length - 1]!)) counts.final++;
    }
  });

  it("O'Brien–Fleming-type spending rejects in 2–9% of runs over 14 daily looks; the fixed test peeked daily does not", () => {
    // Binomial(300, 0.05): 15 ± 3.8. The fixed 95% interval read every day rejects ~20% (about 60).
    expect(counts.spending).toBeGreaterThanOrEqual(6);
    expect(counts.spending).toBeLessThanOrEqual(27);
    expect(counts.pocock).toBeGreaterThanOrEqual(6);
    expect(counts.pocock).toBeLessThanOrEqual(27);
    expect(counts.peeking).toBeGreaterThan(27);
    expect(counts.final).toBeLessThanOrEqual(27);
  });

  it('spends on the information actually reached: the daily boundaries fall from Infinity (day 1) to ~2.1 (day 14)', () => {
    const c = spendingBoundaries(informationFractions(Array.from({ length: 14 }, (_, d) => ((d + 1) * PLANNED) / 14), PLANNED, true));
    expect(c[0]).toBe(Infinity);
    for (let d = 2; d < 14; d++) expect(c[d]).toBeLessThan(c[d - 1]!);
    expect(c[13]).toBeGreaterThan(2.05);
    expect(c[13]).toBeLessThan(2.15);
  });
});
