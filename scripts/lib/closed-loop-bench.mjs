// The closed loop of `npm run bench:uplift` (issue 19's headline): simulated shoppers with
// latent missions visit the demo shop and are shown what each arm shows them: `model` the SDK's
// own recommendation code running the shipped demo model (models/demo, its int8 file on the
// worker's own GPT-2 engine: scripts/lib/sdk-shop.ts, bundled here with
// esbuild because it imports the browser's TypeScript source), `popular` the catalog's popular
// items (the SDK's path for a held-out shopper), `none` nothing. Every shopper is replayed under
// every arm with the same random numbers (closed-loop.ts), so each run's true lift is exact;
// the estimates come from each shopper's own arm, as a merchant's report would compute them:
// directly with the estimators, and end to end by `hunch report` (experimentReport of the built
// trainer) on the events the loop's SDK would upload for each shopper's own arm (run.events()).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';

/** The SDK side (sdk-shop.ts) bundled for Node, and the demo model loaded through it. */
export async function loadDemoShop(root) {
  const dir = mkdtempSync(join(tmpdir(), 'hunch-closed-loop-'));
  try {
    const outfile = join(dir, 'sdk-shop.mjs');
    await build({
      entryPoints: [join(root, 'scripts/lib/sdk-shop.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile,
      logLevel: 'warning',
    });
    const { loadSdkShop } = await import(pathToFileURL(outfile).href);
    return await loadSdkShop(join(root, 'models/demo'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `hunch report`'s API (experimentReport) from the built trainer (`npm run build`). */
async function loadReport(root) {
  return (await import(pathToFileURL(join(root, 'packages/trainer/dist/index.js')).href)).experimentReport;
}

/** [treatment, control] arm indices of the arms model, popular, none. */
const PAIRS = [[0, 2], [0, 1], [1, 2]];
const PAIR_KEYS = ['modelVsNone', 'modelVsPopular', 'popularVsNone'];
const METRICS = ['conversion', 'conversionRelative', 'revenue', 'revenueRelative'];

const round = (x, digits = 4) => Math.round(x * 10 ** digits) / 10 ** digits;
const mean = (xs) => xs.reduce((s, x) => s + x, 0) / xs.length;

const liftJson = ({ estimate, truth, covered }) => ({
  estimate: round(estimate.value, 5),
  low: round(estimate.low, 5),
  high: round(estimate.high, 5),
  se: round(estimate.se, 5),
  pValue: round(estimate.pValue, 5),
  truth: round(truth, 5),
  covered,
});

const ARM_NAMES = ['model', 'popular', 'none'];

/**
 * The report's figures on the headline (control none: model and popular vs none; control
 * popular: model vs popular) beside the direct estimate's, and how far apart they are.
 */
function reportJson(direct, byNone, byPopular, run) {
  const rep = byNone.report;
  const comparison = { modelVsNone: [byNone, 'model'], modelVsPopular: [byPopular, 'model'], popularVsNone: [byNone, 'popular'] };
  const value = (v) => ({ estimate: round(v.value, 5), low: round(v.low, 5), high: round(v.high, 5) });
  const inside = (v, truth) => v.low !== null && v.low <= truth && truth <= v.high;
  let maxDifference = 0;
  const differ = (a, b) => (maxDifference = Math.max(maxDifference, Math.abs(a - b)));
  const arms = ARM_NAMES.map((name, a) => {
    const r = rep.arms.find((x) => x.variant === name);
    const d = direct.arms[a];
    differ(r.shoppers, d.shoppers);
    differ(r.metrics.conversion.value, d.conversion.observed);
    differ(r.metrics.revenuePerShopper.value, d.revenuePerShopper.observed);
    differ(r.metrics.addToCart.value, d.addToCart.observed);
    if (d.clickThrough) differ(r.metrics.ctr.value, d.clickThrough.observed);
    return {
      name,
      shoppers: r.shoppers,
      exposures: r.exposures,
      conversion: round(r.metrics.conversion.value, 5),
      revenuePerShopper: round(r.metrics.revenuePerShopper.value, 3),
      addToCart: round(r.metrics.addToCart.value, 5),
      clickThrough: r.metrics.ctr.value === null ? null : round(r.metrics.ctr.value, 5),
    };
  });
  const lifts = Object.fromEntries(
    PAIR_KEYS.map((k, p) => {
      const [from, treatment] = comparison[k];
      const m = from.report.comparisons.find((c) => c.treatment === treatment).metrics;
      const d = direct.comparisons[p];
      for (const [rm, dm] of [['conversion', 'conversion'], ['revenuePerShopper', 'revenue']]) {
        differ(m[rm].absolute.value, d[dm].estimate.value);
        differ(m[rm].absolute.low, d[dm].estimate.low);
        differ(m[rm].absolute.high, d[dm].estimate.high);
        differ(m[rm].relative.value, d[`${dm}Relative`].estimate.value);
      }
      const lift = (v, truth) => ({ ...value(v), covered: inside(v, truth) });
      return [
        k,
        {
          conversion: lift(m.conversion.absolute, d.conversion.truth),
          conversionRelative: lift(m.conversion.relative, d.conversionRelative.truth),
          conversionAlwaysValid: lift(m.conversion.alwaysValid.absolute, d.conversion.truth),
          revenue: lift(m.revenuePerShopper.absolute, d.revenue.truth),
          revenueRelative: lift(m.revenuePerShopper.relative, d.revenueRelative.truth),
        },
      ];
    }),
  );
  return {
    control: rep.control,
    events: byNone.events,
    exposures: rep.exposures,
    lists: rep.lists,
    crossovers: rep.crossovers.shoppers,
    unknownVariants: rep.unknownVariants.length,
    warnings: rep.warnings,
    enrolled: run.experiment.counts.reduce((s, c) => s + c, 0),
    arms,
    lifts,
    srm: { counts: rep.srm.counts, arms: rep.srm.arms, chiSquare: round(rep.srm.chiSquare, 4), pValue: round(rep.srm.pValue, 4), mismatch: rep.srm.mismatch, message: rep.srm.message },
    maxDifferenceFromDirect: maxDifference,
  };
}

/**
 * The headline experiment (`shoppers`, seed `seed`) and `runs` more of `runShoppers` each (seeds
 * seed + 1 ...), all on one loaded shop (its cache of model answers per distinct history is shared).
 */
export async function closedLoop(ex, root, { shoppers, runs, runShoppers, days, seed, alpha, rate }) {
  const started = performance.now();
  const shop = await loadDemoShop(root);
  const loadedMs = performance.now() - started;
  const experimentReport = await loadReport(root);
  // The report's replays of the observed arms ask the shop again: counted apart.
  const replayStats = { requests: 0, modelRuns: 0 };
  let reportMs = 0;
  /** experimentReport on the run's uploaded events, control `control`: its one experiment, and the number of events. */
  const reportOf = async (run, control) => {
    const before = { ...shop.stats };
    const t0 = performance.now();
    let events = 0;
    async function* counted() {
      for await (const event of run.events()) {
        events++;
        yield event;
      }
    }
    const result = await experimentReport(counted(), { experiment: run.key, control, alpha });
    reportMs += performance.now() - t0;
    replayStats.requests += shop.stats.requests - before.requests;
    replayStats.modelRuns += shop.stats.modelRuns - before.modelRuns;
    return { report: result.experiments[0], events };
  };

  const headline = await ex.closedLoopExperiment(shop, { shoppers, seed: seed + 5_000_000, days, key: `uplift-loop-${seed}` });
  const report = ex.closedLoopReport(headline, PAIRS, alpha);
  const headlineStats = { ...shop.stats };
  const byNone = await reportOf(headline, 'none');
  const byPopular = await reportOf(headline, 'popular');
  const headlineSeconds = (performance.now() - started) / 1000;
  const headlineReport = reportJson(report, byNone, byPopular, headline);

  const covered = Object.fromEntries(PAIR_KEYS.map((k) => [k, Object.fromEntries(METRICS.map((m) => [m, 0]))]));
  const significant = Object.fromEntries(PAIR_KEYS.map((k) => [k, { conversion: 0, revenue: 0 }]));
  const truths = Object.fromEntries(PAIR_KEYS.map((k) => [k, { conversion: [], conversionRelative: [], revenue: [], revenueRelative: [] }]));
  // The report's (experimentReport on the uploaded events) model-vs-popular intervals: fixed 95% absolute and relative (log scale), and always-valid.
  const reportCovered = { conversion: 0, conversionRelative: 0, revenue: 0, revenueRelative: 0, conversionAlwaysValid: 0 };
  const reportRepeated = { significant: 0, srmFlags: 0, maxDifference: 0 };
  for (let r = 0; r < runs; r++) {
    const run = await ex.closedLoopExperiment(shop, { shoppers: runShoppers, seed: seed + 5_000_001 + r, days, key: `uplift-loop-${seed + 1 + r}` });
    const direct = ex.closedLoopReport(run, PAIRS, alpha);
    const { report: rep } = await reportOf(run, 'popular');
    const m = rep.comparisons.find((c) => c.treatment === 'model').metrics;
    const d = direct.comparisons[1];
    const inside = (v, truth) => v.low !== null && v.low <= truth && truth <= v.high;
    if (inside(m.conversion.absolute, d.conversion.truth)) reportCovered.conversion++;
    if (inside(m.conversion.relative, d.conversionRelative.truth)) reportCovered.conversionRelative++;
    if (inside(m.revenuePerShopper.absolute, d.revenue.truth)) reportCovered.revenue++;
    if (inside(m.revenuePerShopper.relative, d.revenueRelative.truth)) reportCovered.revenueRelative++;
    if (inside(m.conversion.alwaysValid.absolute, d.conversion.truth)) reportCovered.conversionAlwaysValid++;
    if (m.conversion.absolute.low > 0 || m.conversion.absolute.high < 0) reportRepeated.significant++;
    if (rep.srm.mismatch) reportRepeated.srmFlags++;
    reportRepeated.maxDifference = Math.max(
      reportRepeated.maxDifference,
      ...[['conversion', 'conversion'], ['revenuePerShopper', 'revenue']].flatMap(([rm, dm]) => ['value', 'low', 'high'].map((k) => Math.abs(m[rm].absolute[k] - (k === 'value' ? d[dm].estimate.value : d[dm].estimate[k])))),
    );
    direct.comparisons.forEach((c, p) => {
      for (const m of METRICS) {
        if (c[m].covered) covered[PAIR_KEYS[p]][m]++;
        truths[PAIR_KEYS[p]][m].push(c[m].truth);
      }
      if (c.conversion.estimate.low > 0 || c.conversion.estimate.high < 0) significant[PAIR_KEYS[p]].conversion++;
      if (c.revenue.estimate.low > 0 || c.revenue.estimate.high < 0) significant[PAIR_KEYS[p]].revenue++;
    });
  }
  const total = (performance.now() - started) / 1000;
  const arm = (a) => ({
    name: a.name,
    shoppers: a.shoppers,
    conversion: { observed: round(a.conversion.observed, 5), true: round(a.conversion.true, 5) },
    revenuePerShopper: { observed: round(a.revenuePerShopper.observed, 3), true: round(a.revenuePerShopper.true, 3) },
    addToCart: { observed: round(a.addToCart.observed, 5), true: round(a.addToCart.true, 5) },
    clickThrough: a.clickThrough && { observed: round(a.clickThrough.observed, 5), true: round(a.clickThrough.true, 5) },
    relevantTiles: a.relevantTiles === null ? null : round(a.relevantTiles, 4),
  });
  return {
    settings: { shoppers, runs, runShoppers, days, arms: ['model', 'popular', 'none'], weights: [1, 1, 1], holdout: null, seed, model: ex.DEFAULT_CLOSED_LOOP_MODEL },
    engine: { ...shop.engine, modelVersion: shop.modelVersion, products: shop.products.length },
    headline: {
      arms: report.arms.map(arm),
      enrolled: headline.experiment.counts.reduce((s, c) => s + c, 0),
      meanVisits: round(mean(Array.from(headline.population.visits)), 3),
      lifts: Object.fromEntries(report.comparisons.map((c, p) => [PAIR_KEYS[p], Object.fromEntries(METRICS.map((m) => [m, liftJson(c[m])]))])),
      modelCalls: headlineStats,
    },
    report: headlineReport,
    repeated: {
      report: {
        coverage: Object.fromEntries(Object.entries(reportCovered).map(([k, v]) => [k, rate(v, runs)])),
        power: rate(reportRepeated.significant, runs),
        srmFlags: rate(reportRepeated.srmFlags, runs),
        maxDifferenceFromDirect: reportRepeated.maxDifference,
      },
      coverage: Object.fromEntries(PAIR_KEYS.map((k) => [k, Object.fromEntries(METRICS.map((m) => [m, rate(covered[k][m], runs)]))])),
      power: Object.fromEntries(PAIR_KEYS.map((k) => [k, { conversion: rate(significant[k].conversion, runs), revenue: rate(significant[k].revenue, runs) }])),
      meanTrueLift: Object.fromEntries(PAIR_KEYS.map((k) => [k, Object.fromEntries(METRICS.map((m) => [m, runs > 0 ? round(mean(truths[k][m]), 5) : null]))])),
    },
    // The simulation's own (each arm for every shopper); the report's replays apart.
    modelCalls: { requests: shop.stats.requests - replayStats.requests, modelRuns: shop.stats.modelRuns - replayStats.modelRuns, truncated: shop.stats.truncated, cacheHits: shop.stats.requests - replayStats.requests - (shop.stats.modelRuns - replayStats.modelRuns), replay: replayStats },
    seconds: { load: round(loadedMs / 1000, 2), headline: Math.round(headlineSeconds), report: Math.round(reportMs / 1000), total: Math.round(total) },
  };
}

/** The closed loop's targets (figure, rule, pass), as bench-uplift.mjs lists them. */
export function closedLoopTargets(loop) {
  if (!loop) return [];
  const [model, popular] = loop.headline.arms;
  const t = [
    ['Closed loop: the model shows the shopper\'s mission category more often than the popular list', model.relevantTiles, `> ${popular.relevantTiles}`, model.relevantTiles > popular.relevantTiles],
    ['Closed loop: the model\'s true conversion lift over no recommendations is positive', loop.headline.lifts.modelVsNone.conversion.truth, '> 0', loop.headline.lifts.modelVsNone.conversion.truth > 0],
  ];
  if (loop.report) {
    t.push(
      ["Closed loop: the report (experimentReport on the uploaded events) gives the direct estimate's figures", loop.report.maxDifferenceFromDirect, 'largest difference ≤ 1e-9', loop.report.maxDifferenceFromDirect <= 1e-9],
      ['Closed loop: the report counts every enrolled shopper as exposed', loop.report.arms.reduce((s, a) => s + a.shoppers, 0), `= ${loop.report.enrolled}`, loop.report.arms.reduce((s, a) => s + a.shoppers, 0) === loop.report.enrolled],
      ["Closed loop: the report's SRM check passes the 1:1:1 assignment", loop.report.srm.pValue, '> 0.001', !loop.report.srm.mismatch],
    );
  }
  if (loop.settings.runs > 0) {
    // The runs are few: the target is that 95% lies within the coverage's own Monte Carlo interval.
    for (const m of ['conversion', 'revenue']) {
      const c = loop.repeated.coverage.modelVsPopular[m];
      t.push([`Closed loop: 95% coverage of the true model-vs-popular lift, ${m}`, c.pct, '95% within its 95% MC interval', c.ci[0] <= 95 && 95 <= c.ci[1]]);
    }
    const r = loop.repeated.report;
    if (r) {
      t.push(["Closed loop: the report's 95% coverage of the true model-vs-popular lift, conversion", r.coverage.conversion.pct, '95% within its 95% MC interval', r.coverage.conversion.ci[0] <= 95 && 95 <= r.coverage.conversion.ci[1]]);
      t.push(["Closed loop: the report's lifts over the runs equal the direct estimate's", r.maxDifferenceFromDirect, 'largest difference ≤ 1e-9', r.maxDifferenceFromDirect <= 1e-9]);
    }
  }
  return t.map(([name, value, target, pass]) => ({ name, value, target, pass }));
}

const pct = (x, digits = 2) => `${(x * 100).toFixed(digits)}%`;
const signed = (x, f) => (x >= 0 ? `+${f(x)}` : `−${f(-x)}`);
const points = (x) => signed(x * 100, (v) => v.toFixed(2));
const money = (x) => signed(x, (v) => v.toFixed(2));
const relative = (x) => signed(x * 100, (v) => `${v.toFixed(1)}%`);

/** The section's closed-loop part (markdown lines), or none for a JSON line without it. */
export function renderClosedLoop(loop, { share, mark }) {
  if (!loop) return [];
  const s = loop.settings;
  const h = loop.headline;
  const names = { modelVsNone: 'model vs none', modelVsPopular: 'model vs popular', popularVsNone: 'popular vs none' };
  const lift = (l, f) => `${f(l.estimate)} [${f(l.low)}, ${f(l.high)}]`;
  const t = Object.fromEntries(closedLoopTargets(loop).map((x) => [x.name, x]));
  const target = (name) => (t[name] ? `${t[name].target} ${mark(t[name].pass)}` : '');
  const lines = [
    '',
    `### The headline: Hunch vs popular items vs no recommendations on the demo catalog`,
    '',
    `A closed-loop simulation (\`packages/trainer/src/experiments/closed-loop.ts\`): ${s.shoppers.toLocaleString('en')} shoppers with a latent mission (a category and an intent) arrive over ${s.days} days and visit ${h.meanVisits} times on average; at each visit's home-page placement (${s.model.homeTiles} tiles) and last product page's placement (${s.model.productTiles} tiles) they are shown what their arm shows, assigned 1:1:1 by @hunch/core (no global holdout; ${h.enrolled.toLocaleString('en')} enrolled). **model**: the SDK's own \`recommend()\` code (recommender, predictor, catalog, the worker's context and ranking; \`sdk-shop.ts\`) on the shipped demo model ${loop.engine.modelVersion} (${loop.engine.file} on the worker's own GPT-2 engine, ${loop.engine.engine}, item scoring ${loop.engine.itemScoring}) given the shopper's events so far; **popular**: the catalog's popular items (the SDK's path for a held-out shopper); **none**: no recommendations. Every shopper is replayed under every arm with the same random numbers: "true" is exact for these shoppers.`,
    '',
    '| arm | shoppers | conversion (true) | revenue per shopper (true) | add to cart (true) | click-through (true) | tiles of the mission\'s category |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...h.arms.map((a) => `| ${a.name} | ${a.shoppers.toLocaleString('en')} | ${pct(a.conversion.observed)} (${pct(a.conversion.true)}) | ${a.revenuePerShopper.observed.toFixed(2)} (${a.revenuePerShopper.true.toFixed(2)}) | ${pct(a.addToCart.observed, 1)} (${pct(a.addToCart.true, 1)}) | ${a.clickThrough ? `${pct(a.clickThrough.observed)} (${pct(a.clickThrough.true)})` : '—'} | ${a.relevantTiles === null ? '—' : pct(a.relevantTiles, 1)} |`),
    '',
    'Estimated lift [95% interval] from each shopper\'s own arm, beside the true lift (✓: the interval covers it):',
    '',
    '| comparison | conversion, points | true | relative | true | revenue per shopper | true | relative | true |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...Object.entries(h.lifts).map(([k, l]) => `| ${names[k]} | ${lift(l.conversion, points)} ${mark(l.conversion.covered)} | ${points(l.conversion.truth)} | ${lift(l.conversionRelative, relative)} ${mark(l.conversionRelative.covered)} | ${relative(l.conversionRelative.truth)} | ${lift(l.revenue, money)} ${mark(l.revenue.covered)} | ${money(l.revenue.truth)} | ${lift(l.revenueRelative, relative)} ${mark(l.revenueRelative.covered)} | ${relative(l.revenueRelative.truth)} |`),
    '',
  ];
  const rep = loop.report;
  if (rep) {
    const n = (x) => x.toLocaleString('en');
    const armsText = rep.arms.map((a) => `${a.name} ${n(a.shoppers)}`).join(', ');
    lines.push(
      `**The merchant's report, end to end.** The same run as the SDK would upload it: for every enrolled shopper, the events of their own arm (${n(rep.events)} events, each with the shopper's id and accepted by @hunch/core's \`validateEvent\`; a session per visit; page views, searches, product views, the tiles shown as \`view_item_list\` and clicks as \`select_item\` with the placement as item_list_id, add_to_cart, purchase with its value, and ${n(rep.exposures)} \`experience_impression\`s, one per placement shown per visit, also in none, whose slot stays empty), read by \`hunch report\`'s \`experimentReport\` (the built trainer; control none, then \`control: 'popular'\` for model vs popular). It finds ${armsText} exposed shoppers, ${n(rep.arms.reduce((s, a) => s + a.shoppers, 0))} of the ${n(rep.enrolled)} enrolled (every shopper sees the home placement on arrival), ${rep.crossovers} crossovers, and its SRM check says: ${rep.srm.message}${rep.srm.mismatch ? ' ✗' : ' ✓'}. Its lifts beside the direct estimate (above) and the truth:`,
      '',
      '| comparison | conversion, points: report | direct | true | relative: report | direct | true | always-valid, points: report | revenue per shopper: report | direct | true |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
      ...Object.entries(rep.lifts).map(([k, r]) => {
        const d = h.lifts[k];
        return `| ${names[k]} | ${lift(r.conversion, points)} ${mark(r.conversion.covered)} | ${points(d.conversion.estimate)} | ${points(d.conversion.truth)} | ${lift(r.conversionRelative, relative)} ${mark(r.conversionRelative.covered)} | ${relative(d.conversionRelative.estimate)} | ${relative(d.conversionRelative.truth)} | ${lift(r.conversionAlwaysValid, points)} ${mark(r.conversionAlwaysValid.covered)} | ${lift(r.revenue, money)} ${mark(r.revenue.covered)} | ${money(d.revenue.estimate)} | ${money(d.revenue.truth)} |`;
      }),
      '',
      `The report's per-arm shoppers, conversion, revenue per shopper, add-to-cart and click-through, its absolute lifts with their intervals and its relative point estimates are the direct estimator's: the largest difference over all of them is ${rep.maxDifferenceFromDirect === 0 ? '0, identical' : rep.maxDifferenceFromDirect.toExponential(1)} (target: ${target("Closed loop: the report (experimentReport on the uploaded events) gives the direct estimate's figures")}). They agree because the events carry exactly what the estimator counts: each shopper's first exposure is the home placement at their first visit's arrival, before anything they do, so every purchase, cart and click is "from then on"; click-through is select_item on the exposures' lists over the tiles of their view_item_list. Only the relative intervals differ, by design: the report's are on log(treatment / control) (asymmetric), the direct ones the delta method on the ratio. The always-valid interval is the report's mSPRT band, tuned to its default plan of 5,000 shoppers per arm.`,
      '',
    );
  }
  if (s.runs > 0) {
    const c = loop.repeated.coverage;
    const p = loop.repeated.power;
    const m = loop.repeated.meanTrueLift;
    lines.push(
      `Over ${s.runs} more simulated experiments of ${s.runShoppers.toLocaleString('en')} shoppers each (new shoppers every run; mean true lifts: model vs popular ${points(m.modelVsPopular.conversion)} points of conversion, ${relative(m.modelVsPopular.conversionRelative)}, revenue ${money(m.modelVsPopular.revenue)} per shopper; model vs none ${points(m.modelVsNone.conversion)} points, ${relative(m.modelVsNone.conversionRelative)}):`,
      '',
      '| measurement | figure | target |',
      '| --- | --- | --- |',
      `| coverage of the true model-vs-popular lift by the 95% interval: conversion | ${share(c.modelVsPopular.conversion)} | ${target('Closed loop: 95% coverage of the true model-vs-popular lift, conversion')} |`,
      `| — relative conversion lift (delta method) | ${share(c.modelVsPopular.conversionRelative)} | |`,
      `| — revenue per shopper | ${share(c.modelVsPopular.revenue)} | ${target('Closed loop: 95% coverage of the true model-vs-popular lift, revenue')} |`,
      `| — relative revenue lift | ${share(c.modelVsPopular.revenueRelative)} | |`,
      `| coverage, model vs none: conversion; revenue | ${share(c.modelVsNone.conversion)}; ${share(c.modelVsNone.revenue)} | |`,
      `| coverage, popular vs none: conversion; revenue | ${share(c.popularVsNone.conversion)}; ${share(c.popularVsNone.revenue)} | |`,
      `| power at α = 0.05 (interval excludes 0), model vs popular: conversion; revenue | ${share(p.modelVsPopular.conversion)}; ${share(p.modelVsPopular.revenue)} | |`,
      `| — model vs none: conversion; revenue | ${share(p.modelVsNone.conversion)}; ${share(p.modelVsNone.revenue)} | |`,
    );
    const r = loop.repeated.report;
    if (r) {
      lines.push(
        `| the report (experimentReport on each run's uploaded events, control popular): coverage of the true model-vs-popular lift by its 95% interval, conversion | ${share(r.coverage.conversion)} | ${target("Closed loop: the report's 95% coverage of the true model-vs-popular lift, conversion")} |`,
        `| — relative conversion lift (log scale) | ${share(r.coverage.conversionRelative)} | |`,
        `| — revenue per shopper; relative | ${share(r.coverage.revenue)}; ${share(r.coverage.revenueRelative)} | |`,
        `| — always-valid interval (planned 5,000 shoppers per arm), conversion | ${share(r.coverage.conversionAlwaysValid)} | |`,
        `| — power, conversion; SRM flags (p < 0.001) | ${share(r.power)}; ${share(r.srmFlags)} | |`,
        `| — largest difference from the direct estimate (model vs popular: lift and interval, conversion and revenue) | ${r.maxDifferenceFromDirect === 0 ? '0' : r.maxDifferenceFromDirect.toExponential(1)} | ${target("Closed loop: the report's lifts over the runs equal the direct estimate's")} |`,
      );
    }
    lines.push('');
  }
  const calls = loop.modelCalls;
  lines.push(
    `- **Relevance and response**: a shown item is relevant when it is of the shopper's mission category. A placement is clicked with probability ${s.model.clickBase} + ${s.model.clickGain} · max over tiles of relevance · ${s.model.positionDecay}^position; the click (select_item, view_item) enters the history the model sees next. The device stores every event as the SDK does, the tiles' view_item_list and the exposures included (the model reads the former; an exposure encodes to nothing but takes a place among the latest 50 events it is given). A visit ends in a purchase with probability sigmoid(propensity + intent + ${s.model.relevantClickBoost} if a relevant recommendation was clicked), an add to cart with ${s.model.cartRatio}× that; what is bought is the clicked relevant item, else the shopper's own last find, at its catalog price. So the model's lift comes from its ranking: the share of its tiles of the mission's category (above) against the popular list's.`,
    `- **What runs**: the model's rankings come from the SDK's own code in Node: the worker's model load (hash-checked files, the 'wasm' backend's int8 choice, its own GPT-2 engine and int8 item head), its IncrementalContext and ranking, and the page's createRecommender / createPredictor / createCatalog with their exclusions (cart and bought items, the product on screen, the page's other placements). Replicated: the worker's private predict and catalog handlers (a few lines), fetch of file: URLs, the event store (an array). ${calls.requests.toLocaleString('en')} model recommendations over all runs, ${calls.modelRuns.toLocaleString('en')} forward passes (answers cached per distinct history: ${calls.cacheHits.toLocaleString('en')} hits); ${calls.truncated} histories longer than the model's context.${calls.replay ? ` The report's replays of the observed arms asked ${calls.replay.requests.toLocaleString('en')} more, answered from the cache but for ${calls.replay.modelRuns.toLocaleString('en')}.` : ''}`,
    `- **Coverage** here has the Monte Carlo error of ${s.runs} runs (the 95% MC interval beside it); the A/B rows above check the intervals over 1,000 runs. ${loop.seconds.total} s for the closed loop (${loop.seconds.headline} s for the headline${loop.seconds.report !== undefined ? `; ${loop.seconds.report} s of the total the report's replays and experimentReport` : ''}).`,
  );
  return lines;
}
