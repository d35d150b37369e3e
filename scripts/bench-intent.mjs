// `npm run bench:intent`: the intent a strategy acts on, checked on real shoppers. The browser's
// `purchaseProbability` (packages/browser/src/intent.ts) is, where the model ships a session
// purchase model (purchase.json, fitted by `hunch train` on events with purchases), its
// probability that the session ends in a purchase (core's intent/session-purchase.ts); otherwise
// the model's probability that the next event is a buying step (add_to_cart, begin_checkout,
// purchase), from the next-token distribution over action tokens and all item tokens
// (worker/signals.ts). Both are scored here against "does this session end in a purchase?" on the raw DIGINETICA sample
// (../shared/datasets/diginetica-raw: 2,986 sessions with time, 138 with a purchase):
// - the sessions become Hunch events (lib/intent-data.mjs: view_item with item_category, one
//   purchase per order with its items), the earliest 70% by start time train, the latest 30% test;
// - a small GPT-2 is trained on the training sessions with the trainer (`trainEvents`, as
//   `hunch train` does, full softmax), exported to ONNX (fp32, as `hunch export`) and run in
//   onnxruntime-node; each test session's next-step value is read, as the worker computes it,
//   after its first view, its first 3 views, and all its views before the purchase (the label
//   never leaks: no cut goes past the first purchase);
// - the shipped session purchase model: the purchase.json that training fitted on the training
//   sessions and the export wrote, read back and validated with core's code, applied to the same
//   cut's events with core's sessionPurchaseFeatures / sessionPurchaseProbability (what intent.ts runs);
// - the baseline: logistic regression on views so far, seconds so far and the share of distinct
//   products (lib/intent-data.mjs sessionFeatures), fitted on the training sessions at the same
//   cut. The data has no cart events (views and orders only), so "cart events" cannot be a feature.
// Reported: AUC with a stratified bootstrap 95% interval (and the paired model - baseline
// difference), Brier score, log loss, a 5-bin equal-count calibration table; BENCHMARKS.md's
// `intent` section (not with --no-md) and benchmarks/intent-calibration.html (a self-contained
// page, Chart.js inlined; --html PATH, or none with --no-html). One JSON object as the last line.
// Options: --epochs 12 --batch-tokens 256 --embd 32 --layers 2 --heads 2 --context 32 --seed 1 (training and
// bootstrap) --seeds 2,3 (the products model trained again with these seeds, its AUCs reported: how much
// one training run's luck moves the figures; '' for none) --train-share 0.7
// --bootstrap 2000 --bins 5.
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { replaceSection } from './lib/benchmarks-md.mjs';
import { asCategories, CUTS, FEATURE_NAMES, readDigineticaRaw, sessionEvents, sessionFeatures, splitByTime, viewEvents } from './lib/intent-data.mjs';
import { auc, bootstrap, brier, calibration, fitLogistic, logLoss, rocCurve } from './lib/intent-metrics.mjs';

const started = performance.now();
const CUT_NAMES = { first: 'after the first view', first3: 'after the first 3 views', beforePurchase: 'after every view before the purchase' };
const WHO = { head: 'shipped purchase model', model: 'model (products), next step', categoryModel: 'model (categories), next step', baseline: 'baseline' };
const root = fileURLToPath(new URL('..', import.meta.url));
const datasets = process.env.HUNCH_DATASETS ?? join(root, '..', 'shared', 'datasets');
const { values } = parseArgs({
  options: {
    epochs: { type: 'string', default: '12' },
    'batch-tokens': { type: 'string', default: '256' },
    embd: { type: 'string', default: '32' },
    layers: { type: 'string', default: '2' },
    heads: { type: 'string', default: '2' },
    context: { type: 'string', default: '32' },
    seed: { type: 'string', default: '1' },
    seeds: { type: 'string', default: '2,3' },
    'train-share': { type: 'string', default: '0.7' },
    bootstrap: { type: 'string', default: '2000' },
    bins: { type: 'string', default: '5' },
    html: { type: 'string', default: join(root, 'benchmarks', 'intent-calibration.html') },
    'no-html': { type: 'boolean', default: false },
    'no-md': { type: 'boolean', default: false },
  },
});
const int = (name) => Number.parseInt(values[name], 10);
/** The model trained here, as the options name it: in the trainer's options and in the report. */
const MODEL_SHAPE = { layers: int('layers'), embd: int('embd'), heads: int('heads'), context: int('context'), epochs: int('epochs'), batchTokens: int('batch-tokens') };
const trainer = await import(pathToFileURL(join(root, 'packages/trainer/dist/index.js')).href);
const { Vocabulary, encodeHistory, isEventName, sessionPurchaseFeatures, sessionPurchaseProbability, validateSessionPurchaseModel } = await import('@hunch/core');

const round = (x, digits = 4) => (x === null ? null : Math.round(x * 10 ** digits) / 10 ** digits);
const log = (line) => console.error(`bench:intent: ${line}`);

// ---- data
const dataDir = join(datasets, 'diginetica-raw');
const sessions = readDigineticaRaw(dataDir);
const { train, test } = splitByTime(sessions, Number(values['train-share']));
const buyers = (list) => list.filter((s) => s.bought).length;
/** Of the events that follow another in their session (what the model learns to predict), the share that are purchases. */
const nextIsPurchase = (list) => {
  const events = list.map(sessionEvents);
  return events.reduce((n, e) => n + e.slice(1).filter((x) => x.name === 'purchase').length, 0) / events.reduce((n, e) => n + e.length - 1, 0);
};
log(`${sessions.length} sessions (${buyers(sessions)} with a purchase): ${train.length} train (${buyers(train)}), ${test.length} test (${buyers(test)})`);

const work = mkdtempSync(join(tmpdir(), 'hunch-bench-intent-'));

/**
 * Trains a model on `sessions` as `hunch train` does (full softmax: probabilities are what is
 * measured), exports it as `hunch export` does (fp32) and loads it in onnxruntime-node. Returns
 * the browser's purchaseProbability after a list of events, and what the run was.
 */
async function trainModel(name, sessions, seed = int('seed')) {
  const dir = join(work, name);
  mkdirSync(dir);
  const eventsFile = join(dir, 'events.ndjson');
  writeFileSync(eventsFile, sessions.flatMap(sessionEvents).map((event) => JSON.stringify(event)).join('\n') + '\n');
  const trainStarted = performance.now();
  const options = {
    ...trainer.DEFAULT_EVENT_TRAIN_OPTIONS,
    ...MODEL_SHAPE,
    seed,
    workers: 1,
    // No early stopping: the trainer stops on item MRR@20, not on what is measured here, and the
    // test sessions are never looked at while training. A fixed number of epochs, the last step kept.
    validationShare: 0,
    fullSoftmaxMax: 100_000,
    log: (line) => log(`train ${name}: ${line}`),
  };
  const { checkpoint, trained } = await trainer.trainEvents(eventsFile, options);
  const trainSeconds = (performance.now() - trainStarted) / 1000;
  await trainer.writeCheckpoint(join(dir, 'checkpoint'), checkpoint);
  writeFileSync(join(dir, 'catalog.json'), JSON.stringify({ products: [] }));
  const manifest = await trainer.exportModel({ checkpoint: join(dir, 'checkpoint'), catalog: join(dir, 'catalog.json'), out: join(dir, 'model'), quant: ['fp32'] });
  const vocabulary = new Vocabulary(manifest.vocabulary, manifest.merges);
  const onnx = await ort.InferenceSession.create(join(dir, 'model', manifest.onnx.variants.fp32), { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const { layers, heads, headDim } = manifest.onnx.cache;
  const itemIds = Int32Array.from(vocabulary.items(), ({ tokenId }) => tokenId);
  // The action tokens as worker/signals.ts actionTokenIds finds them.
  const actions = vocabulary.tokens.flatMap((token, tokenId) => {
    const action = /^<([a-z_]+)>$/.exec(token)?.[1];
    return action !== undefined && isEventName(action) ? [{ tokenId, action }] : [];
  });
  log(`${name}: vocabulary ${vocabulary.size} (${itemIds.length} items; actions ${actions.map((a) => a.action).join(', ')}), ${trained.steps} steps in ${trainSeconds.toFixed(1)} s`);

  /** The browser's purchaseProbability after `events`: signals.ts nextActionProbabilities, then intent.ts's sum over the buying steps. */
  const BUYING = new Set(['add_to_cart', 'begin_checkout', 'purchase']);
  async function purchaseProbability(events) {
    const ids = encodeHistory(events, vocabulary, manifest.encoding.maxLength);
    const int64 = (xs, dims) => new ort.Tensor('int64', BigInt64Array.from(xs, BigInt), dims);
    const feeds = { input_ids: int64(ids, [1, ids.length]), attention_mask: int64(ids.map(() => 1), [1, ids.length]), num_logits_to_keep: int64([1], []) };
    for (let i = 0; i < layers; i++) {
      for (const kind of ['key', 'value']) feeds[`past_key_values.${i}.${kind}`] = new ort.Tensor('float32', new Float32Array(0), [1, heads, 0, headDim]);
    }
    const logits = (await onnx.run(feeds)).logits.data; // [1, 1, vocab]: the last position
    let max = -Infinity;
    for (const id of itemIds) max = Math.max(max, logits[id]);
    let total = 0;
    for (const id of itemIds) total += Math.exp(logits[id] - max);
    const itemLogSumExp = max + Math.log(total);
    let top = itemLogSumExp;
    for (const { tokenId } of actions) top = Math.max(top, logits[tokenId]);
    let buying = 0;
    let all = Math.exp(itemLogSumExp - top);
    for (const { tokenId, action } of actions) {
      const mass = Math.exp(logits[tokenId] - top);
      all += mass;
      if (BUYING.has(action)) buying += mass;
    }
    return buying / all;
  }
  const known = new Set(vocabulary.items().map(({ itemId }) => itemId));
  // The session purchase model as the worker reads it: the file hunch.json names, validated.
  const purchaseModel = manifest.purchase === undefined ? null : validateSessionPurchaseModel(JSON.parse(readFileSync(join(dir, 'model', manifest.purchase), 'utf8')));
  if (purchaseModel && !purchaseModel.ok) throw new Error(`${name}: purchase.json: ${purchaseModel.error}`);
  const run = {
    vocabulary: vocabulary.size,
    steps: trained.steps,
    finalLoss: round(checkpoint.metadata.training.finalLoss),
    trainSeconds: round(trainSeconds, 1),
  };
  return { purchaseProbability, known, run, purchaseModel: purchaseModel?.model ?? null };
}

try {
  const items = await trainModel('items', train);
  const categories = await trainModel('categories', train.map(asCategories));
  const testViews = test.flatMap((s) => s.views);
  const catTestViews = test.flatMap((s) => asCategories(s).views);

  // ---- scores at each cut
  const runs = int('bootstrap');
  const bins = int('bins');
  const labels = test.map((s) => s.bought);
  const cuts = {};
  const curves = {};
  const SCORES = ['head', 'model', 'categoryModel', 'baseline'];
  if (!items.purchaseModel) throw new Error('training fitted no session purchase model on the training sessions');
  log(`shipped purchase model: ${JSON.stringify(items.purchaseModel)}`);
  for (const [cut, viewsAt] of Object.entries(CUTS)) {
    const head = [];
    const model = [];
    const categoryModel = [];
    for (const session of test) {
      const events = viewEvents(session, viewsAt(session));
      const nextStep = await items.purchaseProbability(events);
      model.push(nextStep);
      // intent.ts: the shipped model's probability from the session's events (and the next-step value, where its features name it).
      head.push(sessionPurchaseProbability(items.purchaseModel, sessionPurchaseFeatures(events, nextStep)));
      const asCat = asCategories(session);
      categoryModel.push(await categories.purchaseProbability(viewEvents(asCat, viewsAt(asCat))));
    }
    const fit = fitLogistic(
      train.map((s) => sessionFeatures(viewsAt(s))),
      train.map((s) => s.bought),
    );
    const baseline = test.map((s) => fit.predict(sessionFeatures(viewsAt(s))));
    const baseRate = buyers(train) / train.length;
    const constant = test.map(() => baseRate);
    const columns = [head, model, categoryModel, baseline];
    const intervals = bootstrap(columns, labels, (cols, y) => {
      const aucs = cols.map((c) => auc(c, y));
      return [...aucs, aucs[0] - aucs[3], aucs[1] - aucs[3], aucs[2] - aucs[3], aucs[0] - aucs[1]];
    }, { runs, seed: int('seed') });
    const score = (p, ci) => {
      const cal = calibration(p, labels, bins);
      return {
        auc: round(auc(p, labels)),
        aucCi: ci.map((x) => round(x)),
        brier: round(brier(p, labels), 5),
        logLoss: round(logLoss(p, labels)),
        meanPredicted: round(p.reduce((s, x) => s + x, 0) / p.length),
        ece: round(cal.ece),
        calibration: cal.bins.map((b) => ({ n: b.n, positives: b.positives, from: round(b.from), to: round(b.to), predicted: round(b.predicted), observed: round(b.observed), interval: b.interval.map((x) => round(x)) })),
      };
    };
    const views = test.map((s) => viewsAt(s).length);
    const difference = (i, j, ci) => ({ value: round(auc(columns[i], labels) - auc(columns[j], labels)), ci: ci.map((x) => round(x)) });
    cuts[cut] = {
      sessions: test.length,
      positives: buyers(test),
      meanViews: round(views.reduce((s, n) => s + n, 0) / views.length, 2),
      head: score(head, intervals[0]),
      model: score(model, intervals[1]),
      categoryModel: score(categoryModel, intervals[2]),
      baseline: { ...score(baseline, intervals[3]), features: FEATURE_NAMES, weights: fit.weights.map((w) => round(w)) },
      aucDifference: { head: difference(0, 3, intervals[4]), model: difference(1, 3, intervals[5]), categoryModel: difference(2, 3, intervals[6]), headVsModel: difference(0, 1, intervals[7]) },
      baseRate: { value: round(baseRate), brier: round(brier(constant, labels), 5), logLoss: round(logLoss(constant, labels)) },
    };
    curves[cut] = Object.fromEntries(SCORES.map((who, i) => [who, rocCurve(columns[i], labels)]));
    log(`${cut}: AUC ${SCORES.map((who) => `${who} ${cuts[cut][who].auc} [${cuts[cut][who].aucCi}]`).join(', ')}`);
  }

  // The products model again with other training seeds: the spread one run's luck gives.
  const seeds = [];
  for (const seed of values.seeds.split(',').filter((x) => x.trim() !== '').map(Number)) {
    const again = await trainModel(`items-seed-${seed}`, train, seed);
    const aucs = {};
    for (const [cut, viewsAt] of Object.entries(CUTS)) {
      const p = [];
      for (const session of test) p.push(await again.purchaseProbability(viewEvents(session, viewsAt(session))));
      aucs[cut] = round(auc(p, labels));
    }
    seeds.push({ seed, auc: aucs, trainSeconds: again.run.trainSeconds });
    log(`products model, seed ${seed}: AUC ${JSON.stringify(aucs)}`);
  }

  const result = {
    bench: 'intent',
    date: new Date().toISOString().slice(0, 10),
    data: {
      source: '../shared/datasets/diginetica-raw',
      sessions: sessions.length,
      withPurchase: buyers(sessions),
      split: `earliest ${Math.round(Number(values['train-share']) * 100)}% of sessions by start time train, the rest test`,
      train: { sessions: train.length, withPurchase: buyers(train), from: new Date(train[0].start).toISOString().slice(0, 10), nextEventIsPurchase: round(nextIsPurchase(train)) },
      test: { sessions: test.length, withPurchase: buyers(test), from: new Date(test[0].start).toISOString().slice(0, 10), to: new Date(test.at(-1).start).toISOString().slice(0, 10) },
      testViewsOfKnownItems: round(testViews.filter((v) => items.known.has(v.itemId)).length / testViews.length, 3),
      testViewsOfKnownCategories: round(catTestViews.filter((v) => categories.known.has(v.itemId)).length / catTestViews.length, 3),
      cartEvents: 0,
    },
    model: {
      ...MODEL_SHAPE,
      runs: 'exported fp32 ONNX in onnxruntime-node',
      items: items.run,
      categories: categories.run,
      purchaseModel: { ...items.purchaseModel, intercept: round(items.purchaseModel.intercept), weights: items.purchaseModel.weights.map((w) => round(w)) },
    },
    bootstrap: runs,
    cuts,
    seeds: [{ seed: int('seed'), auc: Object.fromEntries(Object.entries(cuts).map(([cut, c]) => [cut, c.model.auc])), trainSeconds: items.run.trainSeconds }, ...seeds],
    machine: { cpus: cpus().length, load: round(loadavg()[0], 2) },
    seconds: round((performance.now() - started) / 1000, 1),
  };
  if (!values['no-html']) {
    mkdirSync(dirname(values.html), { recursive: true });
    writeFileSync(values.html, page(result, curves));
    log(`chart -> ${relative(root, values.html)}`);
  }
  if (!values['no-md']) replaceSection(join(root, 'BENCHMARKS.md'), 'intent', render(result, values['no-html'] ? null : relative(root, values.html)));
  console.log(JSON.stringify(result));
} finally {
  rmSync(work, { recursive: true, force: true });
}

// ---- BENCHMARKS.md

function render(r, htmlPath) {
  const ci = (x) => `${x.auc.toFixed(3)} [${x.aucCi[0].toFixed(3)}, ${x.aucCi[1].toFixed(3)}]`;
  const diff = (d) => `${d.value >= 0 ? '+' : ''}${d.value.toFixed(3)} [${d.ci[0].toFixed(3)}, ${d.ci[1].toFixed(3)}]`;
  const pct = (x) => `${(x * 100).toFixed(1)} %`;
  const pct2 = (x) => `${(x * 100).toFixed(2)} %`;
  const rows = Object.entries(r.cuts).flatMap(([cut, c]) =>
    Object.keys(WHO).map(
      (who) =>
        `| ${CUT_NAMES[cut]} (mean ${c.meanViews} views) | ${WHO[who]} | ${ci(c[who])} | ${who === 'baseline' ? '' : diff(c.aucDifference[who])} | ${who === 'head' ? diff(c.aucDifference.headVsModel) : ''} | ${c[who].brier.toFixed(4)} | ${pct2(c[who].meanPredicted)} | ${c[who].ece.toFixed(3)} |`,
    ),
  );
  const calRows = Object.entries(r.cuts).flatMap(([cut, c]) =>
    Object.keys(WHO).map((who) => `| ${CUT_NAMES[cut]} | ${WHO[who]} | ${c[who].calibration.map((b) => `${pct2(b.predicted)} → ${b.positives}/${b.n} = ${pct(b.observed)}`).join(' · ')} |`),
  );
  const final = r.cuts.beforePurchase;
  const m = r.model;
  const binCount = final.model.calibration.length;
  const pm = m.purchaseModel;
  return `## Intent: purchaseProbability on real shoppers (DIGINETICA raw sample) — ${r.date}

Produced by \`npm run bench:intent\` (${Math.round(r.seconds)} s on the 2-core machine, shared; JSON last line). Does the browser's \`purchaseProbability\` (\`packages/browser/src/intent.ts\`) tell which real sessions end in a purchase? It is the shipped session purchase model's probability where the model ships one (\`purchase.json\`, fitted by \`hunch train\` on events with purchases), else the model's probability that the next event is a buying step; both are measured.

- **Data**: \`${r.data.source}\`, ${r.data.sessions} sessions, ${r.data.withPurchase} with a purchase, turned into Hunch events (\`scripts/lib/intent-data.mjs\`: \`view_item\` with \`item_category\`, one \`purchase\` per order with its items). Split by time, ${r.data.split}: train ${r.data.train.sessions} sessions (${r.data.train.withPurchase} buy), test ${r.data.test.sessions} sessions from ${r.data.test.from} to ${r.data.test.to}, **${r.data.test.withPurchase} of them buy**. The data has **no cart or checkout events** (views and orders only): the buying steps summed are just \`purchase\`, and no score can use cart events.
- **Model (products)**: what a shop would ship. GPT-2, ${m.layers} layers, ${m.embd} dims, ${m.heads} heads, context ${m.context}, trained by the trainer's \`trainEvents\` (what \`hunch train\` runs; full softmax, ${m.epochs} epochs in batches of ${m.batchTokens} tokens, no early stopping, the last step kept): ${m.items.vocabulary} tokens, ${m.items.steps} steps, ${m.items.trainSeconds} s, final training loss ${m.items.finalLoss}. Exported as \`hunch export\` does (fp32 ONNX) and run in onnxruntime-node; the probability computed as the worker computes it (\`worker/signals.ts\` + \`intent.ts\`). Only **${pct(r.data.testViewsOfKnownItems)} of the test views are of products seen in training**; the rest read as \`[UNK]\`, a token training never saw.
- **Shipped purchase model**: what \`intent().purchaseProbability\` is with this model. The \`purchase.json\` that \`trainEvents\` fitted on the training sessions (core's \`fitLogistic\`, L2 ${pm.fitted.l2}, over core's \`sessionPurchaseFeatures\` at cut points before each session's first purchase, each session weighted once: ${pm.fitted.sessions} sessions, ${pm.fitted.purchaseSessions} buying, ${pm.fitted.cuts} cuts) and the export wrote, read back, validated and applied to each test cut's events with core's \`sessionPurchaseProbability\`, as the page does. Weights: intercept ${pm.intercept}, ${pm.features.map((name, i) => `${name} ${pm.weights[i]}`).join(', ')} (the cart, checkout and search features are 0 here: the data has none of those events).
- **Model (categories)**: the same, every product replaced by its category (\`item_id\` = category): ${m.categories.vocabulary} tokens, ${m.categories.steps} steps, ${m.categories.trainSeconds} s, loss ${m.categories.finalLoss}; ${pct(r.data.testViewsOfKnownCategories)} of the test views are of categories seen in training. It asks whether the products' sparsity is what holds the model back.
- **Baseline**: logistic regression on ${FEATURE_NAMES.join(', ')} at the same cut, fitted on the training sessions (\`scripts/lib/intent-metrics.mjs\`). At the first view all three are constant, so it predicts the base rate (AUC 0.5).
- Each test session is cut ${Object.values(CUT_NAMES).join(', ')} (fewer where fewer views come before its purchase): no cut goes past a session's first purchase, so the label never leaks. AUC intervals: stratified bootstrap, ${r.bootstrap} resamples of the test sessions, paired for the differences.

| test sessions cut | scores | AUC [95% CI] | AUC − baseline [95% CI] | AUC − next step [95% CI] | Brier | mean predicted (observed ${pct(final.positives / final.sessions)}) | calibration error (ECE) |
|---|---|---|---|---|---|---|---|
${rows.join('\n')}

${r.seeds.length > 1 ? `The model on products trained again with other seeds (same data, same recipe; the rows above are seed ${r.seeds[0].seed}), AUC at each cut, the baseline beside:\n\n| seed | ${Object.keys(r.cuts).map((cut) => CUT_NAMES[cut]).join(' | ')} |\n|---|${Object.keys(r.cuts).map(() => '---').join('|')}|\n${r.seeds.map((x) => `| ${x.seed} | ${Object.keys(r.cuts).map((cut) => x.auc[cut].toFixed(3)).join(' | ')} |`).join('\n')}\n| baseline | ${Object.values(r.cuts).map((c) => c.baseline.auc.toFixed(3)).join(' | ')} |\n\n` : ''}Brier score of always predicting the training base rate (${pct(final.baseRate.value)}): ${final.baseRate.brier.toFixed(4)}.

Calibration, ${binCount} equal-count bins by predicted probability (mean predicted → buyers / sessions = observed):

| cut | scores | bins, lowest first |
|---|---|---|
${calRows.join('\n')}

${htmlPath ? `The calibration and ROC charts: \`${htmlPath}\` (one self-contained page, Chart.js inlined, no network; written by the same command).\n\n` : ''}**Verdict on this data.** ${verdict(r)}

**What this can and cannot show.** With ${final.positives} buying sessions among ${final.sessions}, an AUC's 95% interval is about ±${((final.model.aucCi[1] - final.model.aucCi[0]) / 2).toFixed(2)}, and the paired interval of a difference between two scores about ±${((final.aucDifference.model.ci[1] - final.aucDifference.model.ci[0]) / 2).toFixed(2)}, so only a gap about that large (or a score that far from 0.5) shows; each calibration bin holds about ${Math.round(final.positives / binCount)} buyers, so a bin's observed rate is known to within several points. It can show whether the signal ranks real sessions better than chance and than session length and time, and whether its level is in the right range. It cannot rank two models of similar AUC, tune a threshold, or speak for a shop with cart and checkout events (the strongest buying signals, absent here). And the next-step value is P(the next event is a buying step), not P(this session ends in a purchase): where a session simply ends there is no next event to learn from, so its level is a per-event rate (in the training sessions ${pct(r.data.train.nextEventIsPurchase)} of next events are a purchase, against ${pct(r.data.train.withPurchase / r.data.train.sessions)} of sessions buying), not the per-session rate: that is why the shipped purchase model, fitted on the session-level question, replaces it where training can fit one. Here the shipped model can only use views, distinct share and time (the baseline's information, differently cut and weighted), so it cannot be expected to beat the baseline; with cart and checkout events its other features carry the strongest signals.
`;
}

/** The figures' reading, in words, from the figures themselves (so a rerun cannot leave stale prose). */
function verdict(r) {
  const f = (x) => x.toFixed(2);
  const interval = (x) => `[${f(x[0])}, ${f(x[1])}]`;
  const c = r.cuts.beforePurchase;
  const early = r.cuts.first3;
  const sure = (ci) => (ci[0] > 0 ? 'above' : ci[1] < 0 ? 'below' : 'not distinguishable from');
  const chance = (ci) => (ci[0] > 0.5 ? 'better than chance' : 'not distinguishable from chance');
  const top = c.model.calibration.at(-1);
  const best = c.model.calibration.reduce((a, b) => (b.observed > a.observed ? b : a));
  const h = c.head;
  return (
    `After every view before the purchase, the shipped purchase model has AUC ${f(h.auc)} ${interval(h.aucCi)}, ${chance(h.aucCi)}; it is ${sure(c.aucDifference.headVsModel.ci)} the next-step value (difference ${f(c.aucDifference.headVsModel.value)} ${interval(c.aucDifference.headVsModel.ci)}) and ${sure(c.aucDifference.head.ci)} the baseline (${f(c.aucDifference.head.value)} ${interval(c.aucDifference.head.ci)}); ` +
    `its mean probability is ${(h.meanPredicted * 100).toFixed(1)} % against ${((c.positives / c.sessions) * 100).toFixed(1)} % buying (ECE ${h.ece.toFixed(3)}, Brier ${h.brier.toFixed(4)} against the base rate's ${c.baseRate.brier.toFixed(4)}); after the first 3 views ${f(early.head.auc)} ${interval(early.head.aucCi)}. ` +
    `The model's next-step value (model on products) has AUC ${f(c.model.auc)} ${interval(c.model.aucCi)}, ${chance(c.model.aucCi)}; ` +
    `the three-feature baseline has ${f(c.baseline.auc)} ${interval(c.baseline.aucCi)}, and the model is ${sure(c.aucDifference.model.ci)} it (difference ${f(c.aucDifference.model.value)} ${interval(c.aucDifference.model.ci)}). ` +
    (r.seeds.length > 1
      ? `Trained again with seeds ${r.seeds.map((x) => x.seed).join(', ')}, the same model scores ${r.seeds.map((x) => f(x.auc.beforePurchase)).join(', ')} there: one training run's luck moves it by as much as the bootstrap interval. `
      : '') +
    `After the first 3 views: model ${f(early.model.auc)} ${interval(early.model.aucCi)}, baseline ${f(early.baseline.auc)} ${interval(early.baseline.aucCi)}. ` +
    `The model on categories is ${chance(c.categoryModel.aucCi)} (${f(c.categoryModel.auc)} ${interval(c.categoryModel.aucCi)}): covering the sample's items better did not help here, so their sparsity is not the only thing holding the model back. ` +
    `Calibration: the model's mean probability is ${(c.model.meanPredicted * 100).toFixed(1)} % against ${((c.positives / c.sessions) * 100).toFixed(1)} % of sessions buying, and its top fifth (mean ${(top.predicted * 100).toFixed(1)} %) buys at ${(top.observed * 100).toFixed(1)} %` +
    `${best === top ? '' : `, below the ${(best.observed * 100).toFixed(1)} % of a lower fifth`}; the baseline is calibrated (ECE ${c.baseline.ece.toFixed(3)} against the model's ${c.model.ece.toFixed(3)}) but its Brier score ${c.baseline.brier.toFixed(4)} barely beats the base rate's ${c.baseRate.brier.toFixed(4)}. ` +
    `So on ${r.data.train.sessions} training sessions without cart events, purchaseProbability ` +
    (c.aucDifference.model.ci[0] > 0
      ? 'ranks sessions better than session length and time'
      : c.model.aucCi[0] > 0.5
        ? 'is a weak ranking signal that session length and time match or beat'
        : 'is no better a ranking signal than chance here') +
    (c.model.ece > 2 * c.baseline.ece ? ', and its level is not a probability of buying: a strategy should not gate incentives on it without recalibration' : '') +
    '; a shop should judge it on its own data, with cart events and far more sessions than this sample.'
  );
}

// ---- the chart page
function page(r, curves) {
  const require = createRequire(import.meta.url);
  const chart = readFileSync(join(dirname(require.resolve('chart.js')), 'chart.umd.min.js'), 'utf8').replace(/<\/script/gi, '<\\/script');
  const points = (list) => list.map((p) => ({ x: round(p.x), y: round(p.y) }));
  const data = { result: r, names: CUT_NAMES, who: WHO, curves: Object.fromEntries(Object.entries(curves).map(([cut, byWho]) => [cut, Object.fromEntries(Object.entries(byWho).map(([who, list]) => [who, points(list)]))])) };
  // JSON safe inside <script>: no `<`, `>` or `&` can end it (as packages/trainer/src/report/html.ts).
  const json = JSON.stringify(data).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Hunch: purchaseProbability on real shoppers</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<style>body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1d2330;max-width:1280px}h1{font-size:20px}h2{font-size:16px;margin-top:28px}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:16px}.chart{position:relative;height:340px}
table{border-collapse:collapse;font-size:13px;margin-top:8px}td,th{border:1px solid #d5d9e0;padding:3px 8px;text-align:right}th{background:#f3f5f8}.note{color:#5b6475;max-width:70em}</style></head>
<body><h1>purchaseProbability on real shoppers (DIGINETICA raw sample)</h1>
<p class="note" id="summary">Written by npm run bench:intent; the charts need JavaScript (no network: Chart.js is inlined). The same figures are in BENCHMARKS.md's intent section.</p>
<div id="cuts"></div>
<script type="application/json" id="data">${json}</script>
<script>${chart}</script>
<script>
(function(){
var data=JSON.parse(document.getElementById('data').textContent);var r=data.result;var names=data.names;var who=data.who;
var pct=function(x){return (x*100).toFixed(1)+' %';};
var f3=function(x){return x.toFixed(3);};
document.getElementById('summary').textContent='npm run bench:intent, '+r.date+'. Test: '+r.data.test.sessions+' real sessions, '+r.data.test.withPurchase+' of them buy; trained on the earlier '+r.data.train.sessions+'. Models: GPT-2 '+r.model.layers+' layers x '+r.model.embd+' dims (AUC after every view before the purchase by training seed: '+r.seeds.map(function(x){return 'seed '+x.seed+' '+f3(x.auc.beforePurchase);}).join(', ')+'), exported ONNX in onnxruntime-node, read as the browser reads purchaseProbability; one on products (as a shop ships it), one on categories. Baseline: logistic regression on views so far, seconds so far and the share of distinct products. The data has no cart events. Whiskers: 95% Wilson intervals of each bin\\'s observed rate. With so few buyers the intervals are wide: read the shape, not the decimals.';
var colours={head:'#c2185b',model:'#2f6fdf',categoryModel:'#2a9d6f',baseline:'#d9822b'};
var root=document.getElementById('cuts');
Object.keys(r.cuts).forEach(function(cut){
  var c=r.cuts[cut];var keys=Object.keys(who);
  var h=document.createElement('h2');h.textContent=names[cut]+' (mean '+c.meanViews+' views): AUC '+keys.map(function(k){return who[k]+' '+f3(c[k].auc)+' ['+c[k].aucCi.map(f3).join(', ')+']';}).join(', ');root.appendChild(h);
  var grid=document.createElement('div');grid.className='charts';root.appendChild(grid);
  var canvas=function(label){var d=document.createElement('div');d.className='chart';var cv=document.createElement('canvas');cv.setAttribute('role','img');cv.setAttribute('aria-label',label);d.appendChild(cv);grid.appendChild(d);return cv;};
  var sets=[];var top=0;
  keys.forEach(function(k){
    var bins=c[k].calibration;
    bins.forEach(function(b){top=Math.max(top,b.predicted,b.interval[1]);});
    sets.push({label:who[k],data:bins.map(function(b){return {x:b.predicted,y:b.observed};}),borderColor:colours[k],backgroundColor:colours[k],pointRadius:4,showLine:true});
    bins.forEach(function(b){sets.push({label:who[k]+' 95%',data:[{x:b.predicted,y:b.interval[0]},{x:b.predicted,y:b.interval[1]}],borderColor:colours[k]+'77',borderWidth:1.5,pointRadius:0,showLine:true});});
  });
  top=Math.min(1,top*1.05);
  sets.push({label:'perfectly calibrated',data:[{x:0,y:0},{x:top,y:top}],borderColor:'#999',borderDash:[4,4],pointRadius:0,showLine:true});
  new Chart(canvas('calibration, '+names[cut]),{type:'scatter',data:{datasets:sets},options:{maintainAspectRatio:false,animation:false,plugins:{title:{display:true,text:'Calibration: share that bought, by predicted probability ('+c.model.calibration.length+' equal-count bins)'},legend:{labels:{filter:function(item){return item.text.indexOf('95%')<0;}}}},scales:{x:{min:0,max:top,title:{display:true,text:'mean predicted probability of the bin'}},y:{min:0,max:top,title:{display:true,text:'observed share that bought'}}}}});
  var roc=keys.map(function(k){return {label:who[k],data:data.curves[cut][k],borderColor:colours[k],backgroundColor:colours[k],pointRadius:0,showLine:true};});
  roc.push({label:'chance',data:[{x:0,y:0},{x:1,y:1}],borderColor:'#999',borderDash:[4,4],pointRadius:0,showLine:true});
  new Chart(canvas('ROC, '+names[cut]),{type:'scatter',data:{datasets:roc},options:{maintainAspectRatio:false,animation:false,plugins:{title:{display:true,text:'ROC ('+c.positives+' buyers, '+(c.sessions-c.positives)+' others)'}},scales:{x:{min:0,max:1,title:{display:true,text:'false-positive rate'}},y:{min:0,max:1,title:{display:true,text:'true-positive rate'}}}}});
  var t=document.createElement('table');
  var head=t.insertRow();['scores','bin','predicted','observed','95% interval','buyers / sessions'].forEach(function(x){var th=document.createElement('th');th.textContent=x;head.appendChild(th);});
  keys.forEach(function(k){c[k].calibration.forEach(function(b,i){var row=t.insertRow();[who[k],String(i+1),(b.predicted*100).toFixed(2)+' %',pct(b.observed),pct(b.interval[0])+' to '+pct(b.interval[1]),b.positives+' / '+b.n].forEach(function(x){row.insertCell().textContent=x;});});});
  root.appendChild(t);
});
})();
</script></body></html>
`;
}
