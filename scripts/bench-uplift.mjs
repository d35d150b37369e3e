// `npm run bench:uplift`: the experiment statistics checked on simulated shops where the true
// effect is known (packages/trainer/src/experiments: simulator, estimators; assignment from the
// built @hunch/core).
// - A/A: false-positive rate at α = 0.05 of the fixed-horizon test, of the same test looked at
//   every day (peeking), of the alpha-spending (group-sequential) interval looked at every day, and
//   of the always-valid interval looked at every day;
// - A/B with a known effect: how often the 95% intervals cover the exact true lift (every
//   shopper replayed under both arms), and the power;
// - SRM: an injected 52/48 imbalance against configured 50/50, and the false alarms at 50/50;
// - CUPED: interval width and the spread of the estimates against the sqrt(1 - ρ²) predicted;
// - the headline, a closed loop on the demo shop (lib/closed-loop-bench.mjs): Hunch's model vs
//   popular items vs no recommendations, estimated lift beside the exact true lift, and the
//   coverage of the model-vs-popular interval over repeated simulated experiments; the same
//   lifts end to end from `hunch report` (experimentReport of the built trainer) on the events
//   the SDK would upload for each shopper's own arm, with its SRM check and its coverage.
// Options: --aa 1000 --ab 1000 --srm 1000 --shoppers 20000 --srm-shoppers 20000 --days 14
// --seed 0 (added to every run's seed: another set of simulated shops) --loop-shoppers 20000
// (the headline experiment; 0: no closed loop) --loop-runs 100 --loop-run-shoppers 2000. Prints one JSON object
// as its last line and writes BENCHMARKS.md's `uplift` section (not with --no-md);
// `--render FILE` rewrites the section from such a saved line without simulating.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { replaceSection } from './lib/benchmarks-md.mjs';
import { closedLoop, closedLoopTargets, renderClosedLoop } from './lib/closed-loop-bench.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: {
    aa: { type: 'string', default: '1000' },
    ab: { type: 'string', default: '1000' },
    srm: { type: 'string', default: '1000' },
    shoppers: { type: 'string', default: '20000' },
    'srm-shoppers': { type: 'string', default: '20000' },
    days: { type: 'string', default: '14' },
    seed: { type: 'string', default: '0' },
    'loop-shoppers': { type: 'string', default: '20000' },
    'loop-runs': { type: 'string', default: '100' },
    'loop-run-shoppers': { type: 'string', default: '2000' },
    'no-md': { type: 'boolean', default: false },
    render: { type: 'string' },
  },
});

const ALPHA = 0.05;
const Z = 1.959963984540054;
const EFFECT = { purchase: 0.15, orderValue: 0.03, click: 0.1 };
const PILOT = 20;

/** The experiments module of the built trainer (`npm run build`). */
async function loadExperiments() {
  return (await import(pathToFileURL(join(root, 'packages/trainer/dist/index.js')).href)).experiments;
}

/** Share with its 95% Wilson interval, in percent. */
function rate(hits, n) {
  if (n === 0) return null;
  const p = hits / n;
  const centre = (p + (Z * Z) / (2 * n)) / (1 + (Z * Z) / n);
  const half = (Z / (1 + (Z * Z) / n)) * Math.sqrt((p * (1 - p)) / n + (Z * Z) / (4 * n * n));
  const pct = (x) => Math.round(x * 1000) / 10;
  return { hits, n, pct: pct(p), ci: [pct(centre - half), pct(centre + half)] };
}

const mean = (xs) => xs.reduce((s, x) => s + x, 0) / xs.length;
const sd = (xs) => Math.sqrt(xs.reduce((s, x) => s + (x - mean(xs)) ** 2, 0) / (xs.length - 1));
const round = (x, digits = 4) => Math.round(x * 10 ** digits) / 10 ** digits;
const excludes = (interval, value) => interval.low > value || interval.high < value;

async function simulate() {
  const ex = await loadExperiments();
  const shoppers = Number(values.shoppers);
  const days = Number(values.days);
  const aaRuns = Number(values.aa);
  const abRuns = Number(values.ab);
  const srmRuns = Number(values.srm);
  const srmShoppers = Number(values['srm-shoppers']);
  const seed = Number(values.seed);
  const control = { name: 'control', weight: 1, shown: ex.NO_EFFECT };
  const aaArms = [control, { name: 'same', weight: 1, shown: ex.NO_EFFECT }];
  const abArms = [control, { name: 'treatment', weight: 1, shown: EFFECT }];

  const run = (seed, key, arms) => {
    const population = ex.simulateShoppers({ shoppers, seed, days });
    return { population, experiment: ex.simulateExperiment({ population, key, arms, response: ex.liftResponse }) };
  };
  const diff = ([c, t]) => ex.absoluteLift(t, c, ALPHA);
  const daily = ({ population: p, experiment: e }, y) => ex.cumulativeDailyMoments({ arm: e.arm, y }, p.day, p.days, 2);
  const started = performance.now();

  // Planning: τ² of the always-valid intervals is fixed before any experiment, from the
  // difference's variance at the full horizon in separate "historical" runs.
  const pilot = Array.from({ length: PILOT }, (_, k) => run(seed + 9_000_000 + k, `uplift-pilot-${seed + k}`, aaArms));
  const plannedVariance = (metric) => mean(pilot.map(({ experiment: e }) => diff(ex.armMoments({ arm: e.arm, y: e.observed[metric] }, 2).map(ex.meanEstimate)).se ** 2));
  const tau2 = { purchased: ex.mixingVariance(plannedVariance('purchased'), ALPHA), revenue: ex.mixingVariance(plannedVariance('revenue'), ALPHA) };
  // The alpha-spending intervals' plan: the enrolled count at the horizon (the pilots' mean). A
  // day's information fraction is its enrolled count over that; the last day is the final analysis.
  const plannedCount = mean(pilot.map(({ experiment: e }) => e.counts[0] + e.counts[1]));
  const spendingLooks = (looks) => {
    const fractions = ex.informationFractions(looks.map(([c, t]) => c.n + t.n), plannedCount, true);
    return { fractions, obf: ex.spendingBoundaries(fractions, ALPHA, 'obrien-fleming'), pocock: ex.spendingBoundaries(fractions, ALPHA, 'pocock') };
  };
  const spendingIntervals = (estimates, plan, kind = 'obf') =>
    ex.repeatedConfidenceIntervals(estimates, plan.fractions, ALPHA, kind === 'obf' ? 'obrien-fleming' : 'pocock', 0, plan[kind]);

  // A/A: no arm differs.
  const aa = { fixed: { purchased: 0, revenue: 0, ctr: 0, cupedRevenue: 0 }, peeking: { purchased: 0, revenue: 0 }, spending: { purchased: 0, revenue: 0 }, pocock: { purchased: 0, revenue: 0 }, sequential: { purchased: 0, revenue: 0 }, srm: 0 };
  for (let k = 0; k < aaRuns; k++) {
    const r = run(seed + 1_000_000 + k, `uplift-aa-${seed + k}`, aaArms);
    const { experiment: e, population: p } = r;
    let plan;
    for (const metric of ['purchased', 'revenue']) {
      const dailyArms = daily(r, e.observed[metric]);
      plan ??= spendingLooks(dailyArms);
      const looks = dailyArms.map((arms) => diff(arms.map(ex.meanEstimate)));
      if (excludes(looks[looks.length - 1], 0)) aa.fixed[metric]++;
      if (looks.some((d) => excludes(d, 0))) aa.peeking[metric]++;
      const spent = spendingIntervals(looks, plan);
      if (spent.some((d) => excludes(d, 0))) aa.spending[metric]++;
      if (spendingIntervals(looks, plan, 'pocock').some((d) => excludes(d, 0))) aa.pocock[metric]++;
      if (looks.some((d) => excludes(ex.confidenceSequence(d, tau2[metric], ALPHA), 0))) aa.sequential[metric]++;
    }
    if (excludes(diff(ex.armMoments({ arm: e.arm, y: e.observed.clicks, x: e.observed.impressions }, 2).map(ex.ratioEstimate)), 0)) aa.fixed.ctr++;
    if (excludes(diff(ex.cuped(ex.armMoments({ arm: e.arm, y: e.observed.revenue, x: p.preRevenue }, 2)).arms), 0)) aa.fixed.cupedRevenue++;
    if (ex.sampleRatioMismatch(e.counts, [1, 1]).mismatch) aa.srm++;
  }
  const aaSeconds = (performance.now() - started) / 1000;

  // A/B: the treatment has a known effect; the truth of each run is exact (every enrolled shopper under both arms).
  const covered = { purchased: 0, purchasedRelative: 0, revenue: 0, revenueRelative: 0, ctr: 0, cupedPurchased: 0, cupedRevenue: 0, sequentialFinal: 0, sequentialAlways: 0, spendingFinal: 0, spendingAlways: 0, pocockAlways: 0 };
  const significant = { purchased: 0, cupedPurchased: 0, revenue: 0, cupedRevenue: 0, sequentialPurchased: 0, spendingPurchased: 0, pocockPurchased: 0 };
  const finalBoundaries = { obf: [], pocock: [] };
  const cupedStats = { purchased: { rho: [], width: [], error: [], plainError: [] }, revenue: { rho: [], width: [], error: [], plainError: [] } };
  const truths = { purchased: [], purchasedRelative: [], revenue: [], revenueRelative: [], ctr: [] };
  const ses = { purchased: [], cupedPurchased: [], revenue: [], cupedRevenue: [] };
  const covariate = { purchased: 'prePurchases', revenue: 'preRevenue' };
  for (let k = 0; k < abRuns; k++) {
    const r = run(seed + 2_000_000 + k, `uplift-ab-${seed + k}`, abArms);
    const { experiment: e, population: p } = r;
    for (const metric of ['purchased', 'revenue']) {
      const [tc, tt] = ex.trueMeans(e, metric);
      const truth = tt - tc;
      const relativeTruth = tt / tc - 1;
      truths[metric].push(truth);
      truths[`${metric}Relative`].push(relativeTruth);
      const looks = daily(r, e.observed[metric]);
      const final = looks[looks.length - 1].map(ex.meanEstimate);
      const plain = diff(final);
      const relative = ex.relativeLift(final[1], final[0], ALPHA);
      if (!excludes(plain, truth)) covered[metric]++;
      if (!excludes(relative, relativeTruth)) covered[`${metric}Relative`]++;
      if (excludes(plain, 0)) significant[metric]++;
      const adjusted = ex.cuped(ex.armMoments({ arm: e.arm, y: e.observed[metric], x: p[covariate[metric]] }, 2));
      const cupedDiff = diff(adjusted.arms);
      const cupedKey = metric === 'purchased' ? 'cupedPurchased' : 'cupedRevenue';
      if (!excludes(cupedDiff, truth)) covered[cupedKey]++;
      if (excludes(cupedDiff, 0)) significant[cupedKey]++;
      ses[metric].push(plain.se);
      ses[cupedKey].push(cupedDiff.se);
      const c = cupedStats[metric];
      c.rho.push(adjusted.correlation);
      c.width.push(cupedDiff.se / plain.se);
      c.error.push(cupedDiff.value - truth);
      c.plainError.push(plain.value - truth);
      if (metric === 'purchased') {
        const sequential = looks.map((arms) => ex.confidenceSequence(diff(arms.map(ex.meanEstimate)), tau2.purchased, ALPHA));
        if (!excludes(sequential[sequential.length - 1], truth)) covered.sequentialFinal++;
        if (sequential.every((cs) => !excludes(cs, truth))) covered.sequentialAlways++;
        if (sequential.some((cs) => excludes(cs, 0))) significant.sequentialPurchased++;
        const plan = spendingLooks(looks);
        const estimates = looks.map((arms) => diff(arms.map(ex.meanEstimate)));
        const spent = spendingIntervals(estimates, plan);
        if (!excludes(spent[spent.length - 1], truth)) covered.spendingFinal++;
        if (spent.every((i) => !excludes(i, truth))) covered.spendingAlways++;
        if (spent.some((i) => excludes(i, 0))) significant.spendingPurchased++;
        const pocock = spendingIntervals(estimates, plan, 'pocock');
        if (pocock.every((i) => !excludes(i, truth))) covered.pocockAlways++;
        if (pocock.some((i) => excludes(i, 0))) significant.pocockPurchased++;
        finalBoundaries.obf.push(plan.obf[plan.obf.length - 1]);
        finalBoundaries.pocock.push(plan.pocock[plan.pocock.length - 1]);
      }
    }
    const [cr, tr] = ex.trueRatios(e, 'clicks', 'impressions');
    truths.ctr.push(tr - cr);
    if (!excludes(diff(ex.armMoments({ arm: e.arm, y: e.observed.clicks, x: e.observed.impressions }, 2).map(ex.ratioEstimate)), tr - cr)) covered.ctr++;
  }
  const abSeconds = (performance.now() - started) / 1000 - aaSeconds;

  // SRM: assignment only (no outcomes needed), no holdout, so each run has exactly srmShoppers.
  const srm = { imbalanced: 0, balanced: 0, imbalancedShare: [] };
  for (let k = 0; k < srmRuns; k++) {
    const ids = ex.shopperIds(seed + 3_000_000 + k, srmShoppers);
    const skewed = ex.assignPopulation(ids, { key: `uplift-srm-${seed + k}`, weights: [52, 48] }, null);
    const even = ex.assignPopulation(ids, { key: `uplift-srm-even-${seed + k}`, weights: [1, 1] }, null);
    const count = (arm) => { const c = [0, 0]; for (const a of arm) c[a]++; return c; };
    const skewedCounts = count(skewed);
    srm.imbalancedShare.push(skewedCounts[0] / srmShoppers);
    if (ex.sampleRatioMismatch(skewedCounts, [1, 1]).mismatch) srm.imbalanced++;
    if (ex.sampleRatioMismatch(count(even), [1, 1]).mismatch) srm.balanced++;
  }

  // The closed loop: the demo shop with the SDK's own recommendations (the headline).
  const loopSeconds = performance.now();
  const loop = Number(values['loop-shoppers']) > 0
    ? await closedLoop(ex, root, { shoppers: Number(values['loop-shoppers']), runs: Number(values['loop-runs']), runShoppers: Number(values['loop-run-shoppers']), days, seed, alpha: ALPHA, rate })
    : null;
  const closedLoopSeconds = (performance.now() - loopSeconds) / 1000;

  // Power predicted by the normal approximation at the runs' mean true effect and standard error.
  const predictedPower = (effect, se) => ex.normalCdf(Math.abs(effect) / se - Z) + ex.normalCdf(-Math.abs(effect) / se - Z);
  // Mean of (estimate − truth) over the runs in units of the mean standard error, with its Monte Carlo standard error.
  const bias = (errors, se) => ({ meanErrorSe: round(mean(errors) / mean(se), 3), monteCarloSe: round(sd(errors) / Math.sqrt(errors.length) / mean(se), 3) });
  const cupedSummary = (c) => {
    const rho = mean(c.rho);
    return {
      rho: round(rho),
      predictedWidthRatio: round(Math.sqrt(1 - rho * rho)),
      widthRatio: round(mean(c.width)),
      errorSdRatio: round(sd(c.error) / sd(c.plainError)),
    };
  };
  return {
    date: new Date().toISOString().slice(0, 10),
    commit: execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim(),
    settings: {
      shoppers,
      days,
      aaExperiments: aaRuns,
      abExperiments: abRuns,
      srmExperiments: srmRuns,
      srmShoppers,
      meanEnrolled: Math.round(mean(pilot.map(({ experiment: e }) => e.counts[0] + e.counts[1]))),
      holdout: 0.1,
      alpha: ALPHA,
      effect: EFFECT,
      pilotExperiments: PILOT,
      seed,
      mixingRatio: round(ex.optimalMixingRatio(ALPHA)),
      plannedCount: Math.round(plannedCount),
      // Mean over the A/B runs of the day-14 critical value.
      finalBoundary: { obf: round(mean(finalBoundaries.obf), 3), pocock: round(mean(finalBoundaries.pocock), 3) },
    },
    aa: {
      fixed: { conversion: rate(aa.fixed.purchased, aaRuns), revenue: rate(aa.fixed.revenue, aaRuns), ctr: rate(aa.fixed.ctr, aaRuns), cupedRevenue: rate(aa.fixed.cupedRevenue, aaRuns) },
      peekingDaily: { conversion: rate(aa.peeking.purchased, aaRuns), revenue: rate(aa.peeking.revenue, aaRuns) },
      spendingDaily: { conversion: rate(aa.spending.purchased, aaRuns), revenue: rate(aa.spending.revenue, aaRuns) },
      pocockDaily: { conversion: rate(aa.pocock.purchased, aaRuns), revenue: rate(aa.pocock.revenue, aaRuns) },
      sequentialDaily: { conversion: rate(aa.sequential.purchased, aaRuns), revenue: rate(aa.sequential.revenue, aaRuns) },
      srmFalseAlarm: rate(aa.srm, aaRuns),
    },
    ab: {
      meanTrueLift: {
        conversion: round(mean(truths.purchased), 5),
        conversionRelative: round(mean(truths.purchasedRelative)),
        revenue: round(mean(truths.revenue)),
        revenueRelative: round(mean(truths.revenueRelative)),
        ctr: round(mean(truths.ctr), 5),
      },
      coverage: {
        conversion: rate(covered.purchased, abRuns),
        conversionRelative: rate(covered.purchasedRelative, abRuns),
        revenue: rate(covered.revenue, abRuns),
        revenueRelative: rate(covered.revenueRelative, abRuns),
        ctr: rate(covered.ctr, abRuns),
        cupedConversion: rate(covered.cupedPurchased, abRuns),
        cupedRevenue: rate(covered.cupedRevenue, abRuns),
        sequentialConversionFinal: rate(covered.sequentialFinal, abRuns),
        sequentialConversionEveryDay: rate(covered.sequentialAlways, abRuns),
        spendingConversionFinal: rate(covered.spendingFinal, abRuns),
        spendingConversionEveryDay: rate(covered.spendingAlways, abRuns),
        pocockConversionEveryDay: rate(covered.pocockAlways, abRuns),
      },
      bias: { conversion: bias(cupedStats.purchased.plainError, ses.purchased), revenue: bias(cupedStats.revenue.plainError, ses.revenue) },
      power: {
        conversion: { ...rate(significant.purchased, abRuns), predicted: round(100 * predictedPower(mean(truths.purchased), mean(ses.purchased)), 1) },
        cupedConversion: { ...rate(significant.cupedPurchased, abRuns), predicted: round(100 * predictedPower(mean(truths.purchased), mean(ses.cupedPurchased)), 1) },
        revenue: { ...rate(significant.revenue, abRuns), predicted: round(100 * predictedPower(mean(truths.revenue), mean(ses.revenue)), 1) },
        cupedRevenue: { ...rate(significant.cupedRevenue, abRuns), predicted: round(100 * predictedPower(mean(truths.revenue), mean(ses.cupedRevenue)), 1) },
        sequentialConversionByLastDay: rate(significant.sequentialPurchased, abRuns),
        spendingConversionByLastDay: rate(significant.spendingPurchased, abRuns),
        pocockConversionByLastDay: rate(significant.pocockPurchased, abRuns),
      },
    },
    cuped: { conversion: cupedSummary(cupedStats.purchased), revenue: cupedSummary(cupedStats.revenue) },
    srm: { imbalanced52to48: rate(srm.imbalanced, srmRuns), meanControlShare: round(mean(srm.imbalancedShare)), balanced50to50: rate(srm.balanced, srmRuns) },
    closedLoop: loop,
    seconds: { aa: Math.round(aaSeconds), ab: Math.round(abSeconds), closedLoop: Math.round(closedLoopSeconds), total: Math.round((performance.now() - started) / 1000) },
    cpus: cpus().length,
    loadAverage: Math.round(loadavg()[0] * 10) / 10,
    node: process.version,
  };
}

/** Each target: its figure, the rule and whether it holds. */
function targets(r) {
  const within = (x, lo, hi) => x >= lo && x <= hi;
  const p = (x) => x?.pct ?? NaN;
  const t = [
    ['A/A fixed-horizon false positives, conversion', p(r.aa.fixed.conversion), '3–7%', within(p(r.aa.fixed.conversion), 3, 7)],
    ['A/A fixed-horizon false positives, revenue', p(r.aa.fixed.revenue), '3–7%', within(p(r.aa.fixed.revenue), 3, 7)],
    ['A/A alpha-spending interval read every day, false positives, conversion', p(r.aa.spendingDaily?.conversion), '3–7%', within(p(r.aa.spendingDaily?.conversion), 3, 7)],
    ['A/A alpha-spending interval read every day, false positives, revenue', p(r.aa.spendingDaily?.revenue), '3–7%', within(p(r.aa.spendingDaily?.revenue), 3, 7)],
    ['A/A sequential, looked at daily, false positives, conversion', p(r.aa.sequentialDaily.conversion), '≤ 5% (+ 2 Monte Carlo)', p(r.aa.sequentialDaily.conversion) <= 7],
    ['A/A sequential, looked at daily, false positives, revenue', p(r.aa.sequentialDaily.revenue), '≤ 5% (+ 2 Monte Carlo)', p(r.aa.sequentialDaily.revenue) <= 7],
    ['A/A fixed-horizon peeking daily is inflated, conversion', p(r.aa.peekingDaily.conversion), '> 7% (why sequential exists)', p(r.aa.peekingDaily.conversion) > 7],
    ['A/B 95% coverage of the true lift, conversion', p(r.ab.coverage.conversion), '93–97%', within(p(r.ab.coverage.conversion), 93, 97)],
    ['A/B 95% coverage, relative conversion lift (delta method)', p(r.ab.coverage.conversionRelative), '93–97%', within(p(r.ab.coverage.conversionRelative), 93, 97)],
    ['A/B 95% coverage, revenue', p(r.ab.coverage.revenue), '93–97%', within(p(r.ab.coverage.revenue), 93, 97)],
    ['A/B 95% coverage, click-through (ratio, delta method)', p(r.ab.coverage.ctr), '93–97%', within(p(r.ab.coverage.ctr), 93, 97)],
    ['A/B 95% coverage, CUPED revenue', p(r.ab.coverage.cupedRevenue), '93–97%', within(p(r.ab.coverage.cupedRevenue), 93, 97)],
    ['A/B alpha-spending interval covers the truth on every day, conversion', p(r.ab.coverage.spendingConversionEveryDay), '≥ 95% (− 2 Monte Carlo)', p(r.ab.coverage.spendingConversionEveryDay) >= 93],
    ['A/B sequential covers the truth on every day, conversion', p(r.ab.coverage.sequentialConversionEveryDay), '≥ 95% (− 2 Monte Carlo)', p(r.ab.coverage.sequentialConversionEveryDay) >= 93],
    ['SRM flags an injected 52/48', p(r.srm.imbalanced52to48), '≥ 95%', p(r.srm.imbalanced52to48) >= 95],
    ['SRM false alarms at 50/50', p(r.srm.balanced50to50), '≤ 0.5% (p < 0.001)', p(r.srm.balanced50to50) <= 0.5],
    ['CUPED revenue: spread of estimates vs sqrt(1 − ρ²)', r.cuped.revenue.errorSdRatio, `within 0.03 of ${r.cuped.revenue.predictedWidthRatio}`, Math.abs(r.cuped.revenue.errorSdRatio - r.cuped.revenue.predictedWidthRatio) <= 0.03],
    ['CUPED conversion: spread of estimates vs sqrt(1 − ρ²)', r.cuped.conversion.errorSdRatio, `within 0.03 of ${r.cuped.conversion.predictedWidthRatio}`, Math.abs(r.cuped.conversion.errorSdRatio - r.cuped.conversion.predictedWidthRatio) <= 0.03],
  ];
  t.push(...closedLoopTargets(r.closedLoop).map(({ name, value, target, pass }) => [name, value, target, pass]));
  // A check whose runs were not made (e.g. --aa 0) has no figure and is left out.
  return t.filter(([, value]) => Number.isFinite(value)).map(([name, value, target, pass]) => ({ name, value, target, pass }));
}

function render(r) {
  const pct = (x) => `${x.pct}% (${x.hits}/${x.n}; 95% MC ${x.ci[0]}–${x.ci[1]})`;
  const s = r.settings;
  const mark = (pass) => (pass ? '✓' : '✗');
  const t = Object.fromEntries(r.targets.map((x) => [x.name, x]));
  const row = (label, figure, name) => `| ${label} | ${figure} | ${name ? `${t[name].target} ${mark(t[name].pass)}` : ''} |`;
  return [
    `## Uplift statistics on simulated shops whose truth is known — ${r.date}`,
    '',
    `\`npm run bench:uplift\` at ${r.commit} — ${s.aaExperiments.toLocaleString('en')} A/A and ${s.abExperiments.toLocaleString('en')} A/B simulated experiments of ${s.shoppers.toLocaleString('en')} arriving shoppers each over ${s.days} days (a ${s.holdout * 100}% global holdout leaves ${s.meanEnrolled.toLocaleString('en')} enrolled on average, split 50/50 by @hunch/core's assignment), and ${s.srmExperiments.toLocaleString('en')} + ${s.srmExperiments.toLocaleString('en')} SRM runs of exactly ${s.srmShoppers.toLocaleString('en')} shoppers. α = ${s.alpha}. A/B effect: per-visit purchase probability +${s.effect.purchase * 100}%, order value +${s.effect.orderValue * 100}%, click-through +${s.effect.click * 100}%. ${r.seconds.total} s on ${r.cpus} cores (1-minute load average ${r.loadAverage} at the end)${r.closedLoop ? `, ${r.seconds.closedLoop} s of them the closed loop (the headline, below)` : ''}.`,
    '',
    '| measurement | figure | target |',
    '| --- | --- | --- |',
    row('A/A false positives, fixed horizon (day 14): conversion', pct(r.aa.fixed.conversion), 'A/A fixed-horizon false positives, conversion'),
    row('— revenue per shopper', pct(r.aa.fixed.revenue), 'A/A fixed-horizon false positives, revenue'),
    row('— click-through (ratio metric, delta method)', pct(r.aa.fixed.ctr)),
    row('— revenue, CUPED', pct(r.aa.fixed.cupedRevenue)),
    row('A/A false positives, the fixed test looked at every day (peeking): conversion', pct(r.aa.peekingDaily.conversion), 'A/A fixed-horizon peeking daily is inflated, conversion'),
    row('— revenue', pct(r.aa.peekingDaily.revenue)),
    row("A/A false positives, alpha-spending interval read every day (O'Brien–Fleming-type): conversion", pct(r.aa.spendingDaily.conversion), 'A/A alpha-spending interval read every day, false positives, conversion'),
    row('— revenue', pct(r.aa.spendingDaily.revenue), 'A/A alpha-spending interval read every day, false positives, revenue'),
    row('— Pocock-type spending: conversion; revenue', `${pct(r.aa.pocockDaily.conversion)}; ${pct(r.aa.pocockDaily.revenue)}`),
    row('A/A false positives, always-valid interval looked at every day: conversion', pct(r.aa.sequentialDaily.conversion), 'A/A sequential, looked at daily, false positives, conversion'),
    row('— revenue', pct(r.aa.sequentialDaily.revenue), 'A/A sequential, looked at daily, false positives, revenue'),
    row(`A/B coverage of the exact true lift by the 95% interval: conversion (true lift ${(r.ab.meanTrueLift.conversion * 100).toFixed(2)} points, ${(r.ab.meanTrueLift.conversionRelative * 100).toFixed(1)}%)`, pct(r.ab.coverage.conversion), 'A/B 95% coverage of the true lift, conversion'),
    row('— relative conversion lift (delta method)', pct(r.ab.coverage.conversionRelative), 'A/B 95% coverage, relative conversion lift (delta method)'),
    row(`— revenue per shopper (true lift ${r.ab.meanTrueLift.revenue.toFixed(3)}, ${(r.ab.meanTrueLift.revenueRelative * 100).toFixed(1)}%)`, pct(r.ab.coverage.revenue), 'A/B 95% coverage, revenue'),
    row('— relative revenue lift', pct(r.ab.coverage.revenueRelative)),
    row(`— click-through (ratio; true lift ${(r.ab.meanTrueLift.ctr * 100).toFixed(3)} points)`, pct(r.ab.coverage.ctr), 'A/B 95% coverage, click-through (ratio, delta method)'),
    row('— conversion, CUPED', pct(r.ab.coverage.cupedConversion)),
    row('— revenue, CUPED', pct(r.ab.coverage.cupedRevenue), 'A/B 95% coverage, CUPED revenue'),
    row('— always-valid interval, conversion: at day 14', pct(r.ab.coverage.sequentialConversionFinal)),
    row('— always-valid interval, conversion: on every one of the 14 days', pct(r.ab.coverage.sequentialConversionEveryDay), 'A/B sequential covers the truth on every day, conversion'),
    row("— alpha-spending interval (O'Brien–Fleming-type), conversion: at day 14", pct(r.ab.coverage.spendingConversionFinal)),
    row('— alpha-spending interval, conversion: on every one of the 14 days', pct(r.ab.coverage.spendingConversionEveryDay), 'A/B alpha-spending interval covers the truth on every day, conversion'),
    row('— Pocock-type spending, conversion: on every one of the 14 days', pct(r.ab.coverage.pocockConversionEveryDay)),
    row('A/B mean error of the estimate (estimate − true lift), in standard errors: conversion; revenue', `${r.ab.bias.conversion.meanErrorSe} ± ${r.ab.bias.conversion.monteCarloSe}; ${r.ab.bias.revenue.meanErrorSe} ± ${r.ab.bias.revenue.monteCarloSe}`),
    row('A/B power at α = 0.05, conversion (predicted by the normal approximation)', `${pct(r.ab.power.conversion)}; predicted ${r.ab.power.conversion.predicted}%`),
    row('— conversion, CUPED', `${pct(r.ab.power.cupedConversion)}; predicted ${r.ab.power.cupedConversion.predicted}%`),
    row('— revenue', `${pct(r.ab.power.revenue)}; predicted ${r.ab.power.revenue.predicted}%`),
    row('— revenue, CUPED', `${pct(r.ab.power.cupedRevenue)}; predicted ${r.ab.power.cupedRevenue.predicted}%`),
    row(`— conversion, alpha-spending interval (O'Brien–Fleming-type; day-14 critical value ${s.finalBoundary.obf}), excludes 0 on some day by day 14`, pct(r.ab.power.spendingConversionByLastDay)),
    row(`— conversion, Pocock-type spending (day-14 critical value ${s.finalBoundary.pocock}), excludes 0 on some day by day 14`, pct(r.ab.power.pocockConversionByLastDay)),
    row('— conversion, always-valid interval, excludes 0 by day 14', pct(r.ab.power.sequentialConversionByLastDay)),
    row(`SRM flags an injected 52/48 (mean control share ${r.srm.meanControlShare})`, pct(r.srm.imbalanced52to48), 'SRM flags an injected 52/48'),
    row('SRM false alarms at 50/50', pct(r.srm.balanced50to50), 'SRM false alarms at 50/50'),
    row('— on the A/A runs (with the holdout)', pct(r.aa.srmFalseAlarm)),
    row(`CUPED, revenue (covariate: pre-period revenue): ρ ${r.cuped.revenue.rho}; sqrt(1 − ρ²) ${r.cuped.revenue.predictedWidthRatio}`, `interval width ratio ${r.cuped.revenue.widthRatio}; spread of estimates ratio ${r.cuped.revenue.errorSdRatio}`, 'CUPED revenue: spread of estimates vs sqrt(1 − ρ²)'),
    row(`CUPED, conversion (covariate: pre-period purchases): ρ ${r.cuped.conversion.rho}; sqrt(1 − ρ²) ${r.cuped.conversion.predictedWidthRatio}`, `interval width ratio ${r.cuped.conversion.widthRatio}; spread of estimates ratio ${r.cuped.conversion.errorSdRatio}`, 'CUPED conversion: spread of estimates vs sqrt(1 − ρ²)'),
    '',
    'What the figures mean (a share is given as hits/runs with its 95% Wilson interval over the Monte Carlo runs, "95% MC"):',
    '',
    `- **The simulator** (\`packages/trainer/src/experiments/simulate-shoppers.ts\`): shoppers with a latent visit rate, purchase propensity, order value and click-through, 8 weeks of pre-period history drawn from the same traits, and a first exposure on a uniform day of the ${s.days}. Outcomes come from stored uniforms by inverse CDF, so every enrolled shopper is replayed under both arms with the same luck: the "true lift" of a run is exact for that run's shoppers (the mean over all of them of treatment outcome minus control outcome), not an expectation. About 6.5% of shoppers buy in the window. The response to an arm is a pluggable function of what was shown; here a fixed multiplicative effect.`,
    '- **False positives**: the share of A/A runs (no arm differs) whose 95% interval excludes 0. The fixed-horizon test keeps ~5% when read once, at the end; read every day ("peeking") it rejects far more often, which is why the sequential intervals exist. The alpha-spending interval (`group-sequential.ts`: Lan–DeMets spending on the information fraction, the day\'s enrolled count over the planned ' + s.plannedCount.toLocaleString('en') + ' from the pilots, with day ' + s.days + ' the final analysis; boundaries by the Armitage–McPherson–Rowe recursion; interval = estimate ± c_k·SE) spends exactly α over the looks actually made, so it keeps ~5% when read every day. The always-valid interval (a normal-mixture mSPRT confidence sequence, τ² tuned to the planned horizon from ' + s.pilotExperiments + ' separate pilot runs, τ²/V = ' + s.mixingRatio + ') guarantees at most 5% however often and whenever it is read, even past the horizon; with ' + s.days + ' discrete looks it stays well under that (its bound is for continuous monitoring), so the 3–7% band applies to the fixed test read once and to the alpha-spending interval.',
    '- **Coverage**: the share of A/B runs whose 95% interval contains that run\'s exact true lift. Absolute lifts use the Welch-type normal interval, relative lifts and click-through (clicks / impressions with the shopper as the unit) the delta method; coverage at 95% means the standard errors are right, not just the point estimates.',
    '- **Power**: the share of A/B runs whose interval excludes 0, beside the normal approximation\'s prediction at the runs\' mean true lift and standard error. CUPED buys power by narrowing the interval; the sequential intervals pay for their looks with width: the alpha-spending one little (its day-14 critical value ' + s.finalBoundary.obf + ' instead of 1.96, and it may stop on an earlier day), the always-valid one, which pays for unlimited looks, much more (~1.55× the fixed one at the planned horizon), hence lower power on the same shoppers. Power is a Monte Carlo figure: over 1,000 runs it moves about ±3 points (95%) around the prediction, and with the set\'s mean error (estimate − true lift, shown above it), which should be 0 within its Monte Carlo error.',
    '- **SRM**: chi-square goodness of fit of the arm counts against the configured 50/50, flagged at p < 0.001. An assignment that actually splits 52/48 is caught in nearly every run of 20,000 shoppers, while a correct one almost never raises a false alarm.',
    '- **CUPED**: ρ is the pooled within-arm correlation of the metric with its pre-period covariate. Theory says the adjusted interval is sqrt(1 − ρ²) as wide; "interval width ratio" is the adjusted standard error over the plain one (mean over runs), and "spread of estimates ratio" is the standard deviation across runs of (estimate − true lift) with CUPED over without: the variance reduction actually realised, not just claimed.',
    ...renderClosedLoop(r.closedLoop, { share: pct, mark }),
  ].join('\n');
}

let result;
if (values.render) {
  result = JSON.parse(readFileSync(values.render, 'utf8').trim().split('\n').pop());
} else {
  result = await simulate();
  result.targets = targets(result);
}
for (const t of result.targets) console.error(`${t.pass ? 'PASS' : 'FAIL'}  ${t.name}: ${t.value} (target ${t.target})`);
const complete = result.settings.aaExperiments > 0 && result.settings.abExperiments > 0 && result.settings.srmExperiments > 0 && Boolean(result.closedLoop);
if (!values['no-md'] && complete) replaceSection(join(root, 'BENCHMARKS.md'), 'uplift', render(result));
console.log(JSON.stringify(result));
if (result.targets.some((t) => !t.pass)) process.exitCode = 1;
