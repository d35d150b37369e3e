// The closed loop of `npm run bench:uplift` (issue 19's headline): simulated shoppers with
// latent missions visit the demo shop and are shown what each arm shows them: `model` the SDK's
// own recommendation code running the shipped demo model (models/demo, its int8 file on the
// worker's own GPT-2 engine: scripts/lib/sdk-shop.ts, bundled here with
// esbuild because it imports the browser's TypeScript source), `popular` the catalog's popular
// items (the SDK's path for a held-out shopper), `none` nothing. Every shopper is replayed under
// every arm with the same random numbers (closed-loop.ts), so each run's true lift is exact;
// the estimates come from each shopper's own arm, as a merchant's report would compute them.
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

/**
 * The headline experiment (`shoppers`, seed `seed`) and `runs` more of `runShoppers` each (seeds
 * seed + 1 ...), all on one loaded shop (its cache of model answers per distinct history is shared).
 */
export async function closedLoop(ex, root, { shoppers, runs, runShoppers, days, seed, alpha, rate }) {
  const started = performance.now();
  const shop = await loadDemoShop(root);
  const loadedMs = performance.now() - started;
  const headline = await ex.closedLoopExperiment(shop, { shoppers, seed: seed + 5_000_000, days, key: `uplift-loop-${seed}` });
  const report = ex.closedLoopReport(headline, PAIRS, alpha);
  const headlineSeconds = (performance.now() - started) / 1000;
  const headlineStats = { ...shop.stats };

  const covered = Object.fromEntries(PAIR_KEYS.map((k) => [k, Object.fromEntries(METRICS.map((m) => [m, 0]))]));
  const significant = Object.fromEntries(PAIR_KEYS.map((k) => [k, { conversion: 0, revenue: 0 }]));
  const truths = Object.fromEntries(PAIR_KEYS.map((k) => [k, { conversion: [], conversionRelative: [], revenue: [], revenueRelative: [] }]));
  for (let r = 0; r < runs; r++) {
    const run = await ex.closedLoopExperiment(shop, { shoppers: runShoppers, seed: seed + 5_000_001 + r, days, key: `uplift-loop-${seed + 1 + r}` });
    ex.closedLoopReport(run, PAIRS, alpha).comparisons.forEach((c, p) => {
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
    repeated: {
      coverage: Object.fromEntries(PAIR_KEYS.map((k) => [k, Object.fromEntries(METRICS.map((m) => [m, rate(covered[k][m], runs)]))])),
      power: Object.fromEntries(PAIR_KEYS.map((k) => [k, { conversion: rate(significant[k].conversion, runs), revenue: rate(significant[k].revenue, runs) }])),
      meanTrueLift: Object.fromEntries(PAIR_KEYS.map((k) => [k, Object.fromEntries(METRICS.map((m) => [m, runs > 0 ? round(mean(truths[k][m]), 5) : null]))])),
    },
    modelCalls: { ...shop.stats, cacheHits: shop.stats.requests - shop.stats.modelRuns },
    seconds: { load: round(loadedMs / 1000, 2), headline: Math.round(headlineSeconds), total: Math.round(total) },
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
  if (loop.settings.runs > 0) {
    // The runs are few: the target is that 95% lies within the coverage's own Monte Carlo interval.
    for (const m of ['conversion', 'revenue']) {
      const c = loop.repeated.coverage.modelVsPopular[m];
      t.push([`Closed loop: 95% coverage of the true model-vs-popular lift, ${m}`, c.pct, '95% within its 95% MC interval', c.ci[0] <= 95 && 95 <= c.ci[1]]);
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
      '',
    );
  }
  const calls = loop.modelCalls;
  lines.push(
    `- **Relevance and response**: a shown item is relevant when it is of the shopper's mission category. A placement is clicked with probability ${s.model.clickBase} + ${s.model.clickGain} · max over tiles of relevance · ${s.model.positionDecay}^position; the click (select_item, view_item) enters the history the model sees next. A visit ends in a purchase with probability sigmoid(propensity + intent + ${s.model.relevantClickBoost} if a relevant recommendation was clicked), an add to cart with ${s.model.cartRatio}× that; what is bought is the clicked relevant item, else the shopper's own last find, at its catalog price. So the model's lift comes from its ranking: the share of its tiles of the mission's category (above) against the popular list's.`,
    `- **What runs**: the model's rankings come from the SDK's own code in Node: the worker's model load (hash-checked files, the 'wasm' backend's int8 choice, its own GPT-2 engine and int8 item head), its IncrementalContext and ranking, and the page's createRecommender / createPredictor / createCatalog with their exclusions (cart and bought items, the product on screen, the page's other placements). Replicated: the worker's private predict and catalog handlers (a few lines), fetch of file: URLs, the event store (an array). ${calls.requests.toLocaleString('en')} model recommendations over all runs, ${calls.modelRuns.toLocaleString('en')} forward passes (answers cached per distinct history: ${calls.cacheHits.toLocaleString('en')} hits); ${calls.truncated} histories longer than the model's context.`,
    `- **Coverage** here has the Monte Carlo error of ${s.runs} runs (the 95% MC interval beside it); the A/B rows above check the intervals over 1,000 runs. ${loop.seconds.total} s for the closed loop (${loop.seconds.headline} s for the headline).`,
  );
  return lines;
}
