// `npm run bench:strategies`: strategies checked where the truth is known (issue 20), on the
// strategy simulator of the built trainer (packages/trainer/src/strategies/simulator.ts: shoppers
// at a `cart-nudge` decision point with known responses to none / reminder / free-shipping-bar /
// incentive, every policy's value exact, as an expectation over a large population of contexts).
// (a) Off-policy evaluation: IPS, SNIPS and DR estimates of fixed policies (always none, always
//     remind, the hand-written rules, always incentive, a learned policy) from logs of a uniform
//     and of an ε-greedy logging policy, over repeated simulations: bias, RMSE, interval width and
//     95% interval coverage per estimator, against the exact values.
// (b) Rounds of log → learn → ship → log from uniform exploration: each round's logs, the policy
//     learned on half of the sessions so far, its DR gain over the deployed policy on the other
//     half, the ship rule, and what is deployed next; then conversion, revenue, incentive spend and
//     net revenue per shopper of the final learned policy against no strategy, the rules and
//     always-on incentives, each estimated from the last round's logs beside its true value.
// (c) Incentive spend per extra purchase (over doing nothing) of the learned policy against
//     always-on incentives.
// (d) The levers of the learner and the ship rule: the rounds run again under each variant
//     (the last release's learner, then each of this one's changes: per-stage interaction features,
//     λ 100, the check on the deployed policy's own decisions; cross-fitted or one split; ε from the
//     evidence, 0.1 or 0.02) over several seeds, the final deployed policy's true value of each.
// Options: --runs 150 (simulated logs per logging policy in (a)) --decisions 4000 (per log in (a))
// --rounds 5 --round-shoppers 20000 --repeats 3 (the rounds again with other seeds, final values
// only) --lever-seeds 8 (the rounds per variant of the learner and ship rule in (d)) --truth 200000
// (contexts the exact values are taken over) --seed 0. Prints one JSON object
// as its last line and writes BENCHMARKS.md's `strategies` section (not with --no-md);
// `--render FILE` rewrites the section from such a saved line without simulating.
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { replaceSection } from './lib/benchmarks-md.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '150' },
    decisions: { type: 'string', default: '4000' },
    rounds: { type: 'string', default: '5' },
    'round-shoppers': { type: 'string', default: '20000' },
    repeats: { type: 'string', default: '3' },
    'lever-seeds': { type: 'string', default: '8' },
    truth: { type: 'string', default: '200000' },
    seed: { type: 'string', default: '0' },
    'no-md': { type: 'boolean', default: false },
    render: { type: 'string' },
  },
});

const ESTIMATORS = ['ips', 'snips', 'dr'];
/** The OPE logging policy at an ε the learner does not use (left out of the summary's coverage). */
const LOW_LOGGER = 'ε-greedy learned (ε 0.02, a floor not taken)';
const Z = 1.959963984540054;
const round = (x, digits = 3) => (x === null || !Number.isFinite(x) ? x : Math.round(x * 10 ** digits) / 10 ** digits);
const mean = (xs) => xs.reduce((s, x) => s + x, 0) / xs.length;

/** Share with its 95% Wilson interval, in percent. */
function rate(hits, n) {
  const p = hits / n;
  const centre = (p + (Z * Z) / (2 * n)) / (1 + (Z * Z) / n);
  const half = (Z / (1 + (Z * Z) / n)) * Math.sqrt((p * (1 - p)) / n + (Z * Z) / (4 * n * n));
  const pct = (x) => Math.round(x * 1000) / 10;
  return { hits, n, pct: pct(p), ci: [pct(centre - half), pct(centre + half)] };
}

async function simulate() {
  const s = (await import(pathToFileURL(join(root, 'packages/trainer/dist/index.js')).href)).strategies;
  const seed = Number(values.seed);
  const runs = Number(values.runs);
  const decisions = Number(values.decisions);
  const rounds = Number(values.rounds);
  const roundShoppers = Number(values['round-shoppers']);
  const repeats = Number(values.repeats);
  const leverSeeds = Number(values['lever-seeds']);
  const started = performance.now();
  const population = s.simulateShoppers(Number(values.truth), seed + 999_999);
  const truth = (policy) => s.truePolicyValue(population, policy);
  const A = s.SIM_ACTIONS;
  const fixed = {
    'always none': s.alwaysPolicy(s.SIM_STRATEGY, A, 'none'),
    'always remind': s.alwaysPolicy(s.SIM_STRATEGY, A, 'reminder'),
    rules: s.cartNudgeRules(),
    'always incentive': s.alwaysPolicy(s.SIM_STRATEGY, A, 'incentive'),
  };
  // Logs are drawn with a seed of their own, apart from their shoppers'.
  const log = (n, shopperSeed, policy) => s.logDecisions(s.simulateShoppers(n, shopperSeed), policy, shopperSeed + 7_777_777);

  // (a) OPE of fixed policies. The learned policy is learned once, from its own uniform logs.
  // It logs at the ε of earlier releases (0.1) and, as a third logging policy, at the ε the learner
  // now picks from the evidence of those logs (adaptiveEpsilon: its floor, MIN_EPSILON, here).
  const opeLogs = log(20_000, seed + 1, null);
  const learnedForOpe = s.learnPolicy(opeLogs, { id: 'learned', epsilon: 0.1 });
  const adaptive = s.adaptiveEpsilon(opeLogs);
  const learnedAdaptive = { ...learnedForOpe, epsilon: adaptive };
  const targets = { ...fixed, learned: learnedForOpe };
  const targetTruth = Object.fromEntries(Object.entries(targets).map(([name, p]) => [name, truth(p).net]));
  // And at ε 0.02, a floor the learner does not take: what such logs can still tell.
  const learnedLow = { ...learnedForOpe, epsilon: 0.02 };
  const loggers = { uniform: null, 'ε-greedy learned (ε 0.1)': learnedForOpe, [`ε-greedy learned (ε ${adaptive}, from the evidence)`]: learnedAdaptive, [LOW_LOGGER]: learnedLow };
  const ope = {};
  for (const [loggerName, logger] of Object.entries(loggers)) {
    const acc = Object.fromEntries(Object.keys(targets).map((t) => [t, Object.fromEntries(ESTIMATORS.map((e) => [e, { err: [], width: [], covered: 0 }]))]));
    for (let k = 0; k < runs; k++) {
      const logs = log(decisions, seed + 10_000 + k + (logger ? 500_000 : 0) + (logger === learnedAdaptive ? 500_000 : 0) + (logger === learnedLow ? 1_000_000 : 0), logger);
      const predictions = s.crossFittedPredictions(logs);
      for (const [name, policy] of Object.entries(targets)) {
        const e = s.evaluatePolicy(logs, policy, { predictions });
        for (const est of ESTIMATORS) {
          const a = acc[name][est];
          a.err.push(e[est].value - targetTruth[name]);
          a.width.push(e[est].high - e[est].low);
          if (e[est].low <= targetTruth[name] && targetTruth[name] <= e[est].high) a.covered++;
        }
      }
    }
    ope[loggerName] = Object.fromEntries(
      Object.entries(acc).map(([name, byEst]) => [
        name,
        {
          truth: round(targetTruth[name]),
          ...Object.fromEntries(
            Object.entries(byEst).map(([est, a]) => [
              est,
              { bias: round(mean(a.err)), biasSe: round(Math.sqrt(mean(a.err.map((x) => (x - mean(a.err)) ** 2)) / a.err.length)), rmse: round(Math.sqrt(mean(a.err.map((x) => x * x)))), width: round(mean(a.width)), coverage: rate(a.covered, runs) },
            ]),
          ),
        },
      ]),
    );
  }
  const opeSeconds = (performance.now() - started) / 1000;

  // (b) Rounds of log → learn → ship → log.
  const loop = (loopSeed, detail, variant = {}) => {
    let deployed = null; // uniform exploration: no policy yet
    const all = [];
    const steps = [];
    let last = [];
    const shipped = [];
    for (let r = 0; r < rounds; r++) {
      last = log(roundShoppers, loopSeed + 100 * r, deployed);
      all.push(...last);
      const t = truth(deployed);
      const observed = mean(last.map((d) => d.reward));
      const { policy, check, learnedOn, checkedOn } = s.learnAndCheck(all, { id: `learned-r${r + 1}`, current: deployed, seed: loopSeed + r, ...variant });
      const candidateTruth = truth(policy);
      if (detail) {
        steps.push({
          round: r + 1,
          loggedWith: deployed ? deployed.id : 'uniform',
          loggedTruth: round(t.net),
          loggedObserved: round(observed),
          candidate: policy.id,
          learnedOn,
          checkedOn,
          candidateDr: { value: round(check.candidate.dr.value), low: round(check.candidate.dr.low), high: round(check.candidate.dr.high) },
          candidateTruth: round(candidateTruth.net),
          gainDr: { value: round(check.gain.value), low: round(check.gain.low), high: round(check.gain.high) },
          gainTruth: round(candidateTruth.net - t.net),
          shipped: check.ship,
        });
      }
      if (check.ship) {
        deployed = policy;
        shipped.push(r + 1);
      }
    }
    return { deployed, last, steps, all, shipped };
  };
  const main = loop(seed + 3_000_000, true);
  const final = main.deployed;
  // Each policy estimated on the last round's logs (DR, with conversion and revenue as rewards
  // too) beside its truth.
  const asReward = (key) => main.last.map((d) => ({ ...d, reward: key === 'conversion' ? (d.purchaseValue === null ? 0 : 1) : key === 'revenue' ? (d.purchaseValue ?? 0) : d.reward }));
  const columns = { net: asReward('net'), conversion: asReward('conversion'), revenue: asReward('revenue') };
  const predictions = Object.fromEntries(Object.entries(columns).map(([k, recs]) => [k, s.crossFittedPredictions(recs)]));
  // What the value models are worth without exploration: refit on every log, ε → 0 (not shipped: it could not learn further).
  const greedy = s.learnPolicy(main.all, { id: 'learned-all-greedy', epsilon: 1e-6 });
  const compared = { 'no strategy': fixed['always none'], rules: fixed.rules, 'always incentive': fixed['always incentive'], uniform: null, learned: final, 'learned without exploration': greedy };
  const table = {};
  for (const [name, policy] of Object.entries(compared)) {
    const t = truth(policy);
    const est = Object.fromEntries(
      Object.entries(columns).map(([k, recs]) => {
        const e = s.evaluatePolicy(recs, policy, { predictions: predictions[k] }).dr;
        return [k, { value: round(e.value, 4), low: round(e.low, 4), high: round(e.high, 4) }];
      }),
    );
    table[name] = { id: policy ? policy.id : 'uniform', epsilon: policy ? policy.epsilon : 1, truth: { net: round(t.net), conversion: round(t.conversion, 4), revenue: round(t.revenue), spend: round(t.spend) }, dr: est };
  }
  table.oracle = { id: 'oracle', truth: { net: round(s.oracleValue(population)) } };
  // (c) Incentive spend per extra purchase over doing nothing: all purchases the policy adds, and
  // those its incentives add (each incentive decision's purchase probability less doing nothing's).
  const none = truth(fixed['always none']);
  // The oracle as probabilities: each shopper's best action (by true net value).
  const oracleProbabilities = (shopper) => {
    const values = shopper.eligible.map((a) => {
      const r = s.response(shopper, a);
      return r.purchase * (r.value - r.cost);
    });
    const best = values.indexOf(Math.max(...values));
    return values.map((_, i) => (i === best ? 1 : 0));
  };
  const incentiveTruth = (policy) => {
    let shown = 0;
    let spend = 0;
    let added = 0;
    const t = { conversion: 0, spend: 0 };
    for (const shopper of population) {
      const probabilities = policy === 'oracle' ? oracleProbabilities(shopper) : s.targetProbabilities(policy, { strategy: s.SIM_STRATEGY, eligible: shopper.eligible, features: shopper.features });
      shopper.eligible.forEach((a, k) => {
        const r = s.response(shopper, a);
        t.conversion += (probabilities[k] * r.purchase) / population.length;
        t.spend += (probabilities[k] * r.purchase * r.cost) / population.length;
      });
      const i = shopper.eligible.indexOf('incentive');
      if (i < 0) continue;
      const pi = probabilities[i];
      const offered = s.response(shopper, 'incentive');
      shown += pi;
      spend += pi * offered.purchase * offered.cost;
      added += pi * (offered.purchase - s.response(shopper, 'none').purchase);
    }
    const n = population.length;
    return {
      incentiveShare: round(shown / n, 4),
      spendPerShopper: round(spend / n),
      extraPurchasesPerShopper: round(t.conversion - none.conversion, 4),
      spendPerExtraPurchase: round((t.spend - none.spend) / (t.conversion - none.conversion), 2),
      purchasesIncentivesAddPerShopper: round(added / n, 4),
      spendPerPurchaseIncentivesAdd: round(spend / added, 2),
    };
  };
  const incentives = { learned: incentiveTruth(final), 'learned without exploration': incentiveTruth(greedy), 'always incentive': incentiveTruth(fixed['always incentive']), oracle: incentiveTruth('oracle') };
  // The rounds again with other seeds: the final policy's truth.
  const again = [];
  for (let k = 1; k < repeats; k++) {
    const { deployed } = loop(seed + 3_000_000 + k * 50_000, false);
    const t = truth(deployed);
    again.push({ seed: k, deployed: deployed ? deployed.id : 'uniform', net: round(t.net), conversion: round(t.conversion, 4), spend: round(t.spend) });
  }
  // (d) The levers, each over the same seeds (paired): the final deployed policy's truth.
  // The decision features of the last release: no per-stage interactions (their names have a '*').
  const { DECISION_FEATURES } = await import(pathToFileURL(join(root, 'packages/core/dist/index.js')).href);
  const BASE_FEATURES = DECISION_FEATURES.filter((name) => !name.includes('*'));
  const before = { features: BASE_FEATURES, lambda: 1, checkOn: 'all' };
  const variants = {
    'last release: 14 features, λ 1, checked on all decisions (before)': before,
    '+ per-stage interactions': { lambda: 1, checkOn: 'all' },
    '+ λ 100': { features: BASE_FEATURES, checkOn: 'all' },
    '+ checked on the deployed policy’s own decisions': { features: BASE_FEATURES, lambda: 1 },
    'all three (default)': {},
    'default, one split instead of cross-fitted': { crossFit: false },
    'default, ε 0.1 instead of from the evidence': { epsilon: 0.1 },
    'default, ε 0.02 (a lower floor, not taken)': { epsilon: 0.02 },
  };
  const levers = {};
  for (const [name, variant] of Object.entries(variants)) {
    const runs = [];
    for (let k = 0; k < leverSeeds; k++) {
      const { deployed, shipped } = loop(seed + 3_000_000 + k * 50_000, false, variant);
      const t = truth(deployed);
      runs.push({ net: t.net, spend: t.spend, conversion: t.conversion, epsilon: deployed ? deployed.epsilon : 1, shipped });
    }
    levers[name] = runs;
  }
  const base = Object.values(levers)[0];
  const sd = (xs) => Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / Math.max(1, xs.length - 1));
  const leverTable = Object.fromEntries(
    Object.entries(levers).map(([name, runs]) => {
      const diff = runs.map((x, i) => x.net - base[i].net);
      return [
        name,
        {
          net: round(mean(runs.map((x) => x.net))),
          netMin: round(Math.min(...runs.map((x) => x.net))),
          netMax: round(Math.max(...runs.map((x) => x.net))),
          gain: round(mean(diff)),
          gainSe: round(sd(diff) / Math.sqrt(diff.length)),
          beatsRules: runs.filter((x) => x.net > truth(fixed.rules).net).length,
          spend: round(mean(runs.map((x) => x.spend))),
          conversion: round(mean(runs.map((x) => x.conversion)), 4),
          epsilon: [...new Set(runs.map((x) => round(x.epsilon, 4)))],
          shipRounds: runs.map((x) => x.shipped.join('+') || '–'),
        },
      ];
    }),
  );
  return {
    bench: 'strategies',
    options: { runs, decisions, rounds, roundShoppers, repeats, truthContexts: population.length, seed },
    shipRule: `${s.SHIP_RULE}; ${s.CROSS_FIT_SHIP_RULE}`,
    ope,
    rounds: main.steps,
    compared: table,
    incentives,
    repeats: again,
    levers: leverTable,
    epsilonRange: [s.MIN_EPSILON, s.DEFAULT_EPSILON],
    leverSeeds,
    seconds: { ope: round(opeSeconds, 1), total: round((performance.now() - started) / 1000, 1) },
    machine: { cpus: cpus().length, load: round(loadavg()[0], 1) },
    node: process.version,
  };
}

const f2 = (x) => (x === null || x === undefined ? '–' : x.toFixed(2));
const f3 = (x) => (x === null || x === undefined ? '–' : x.toFixed(3));
const pct = (x) => `${(100 * x).toFixed(1)}%`;

function lowCover(r) {
  const all = Object.values(r.ope[LOW_LOGGER]).flatMap((row) => ESTIMATORS.map((est) => row[est].coverage.pct));
  return `${Math.min(...all)}–${Math.max(...all)}%`;
}

/** The levers in one sentence: each variant's mean true net and its paired gain over the first (the last release). */
function leverLine(r) {
  return Object.entries(r.levers)
    .map(([name, x]) => `${name} ${f2(x.net)}${x === Object.values(r.levers)[0] ? '' : ` (${x.gain >= 0 ? '+' : ''}${f2(x.gain)} ± ${f2(x.gainSe)})`}`)
    .join('; ');
}

function render(r) {
  const o = r.options;
  const c = r.compared;
  const inc = r.incentives;
  const cover = (est) => {
    const all = Object.entries(r.ope)
      .filter(([logger]) => logger !== LOW_LOGGER)
      .flatMap(([, byTarget]) => Object.values(byTarget).map((row) => row[est].coverage));
    return `${Math.min(...all.map((x) => x.pct))}–${Math.max(...all.map((x) => x.pct))}%`;
  };
  const lines = [
    '## Strategies: off-policy evaluation, learning and the ship rule where the truth is known',
    '',
    `\`npm run bench:strategies\` (${r.seconds.total} s on ${r.machine.cpus} cores, load ${r.machine.load}; Node ${r.node}). The strategy simulator (\`packages/trainer/src/strategies/simulator.ts\`): shoppers at a \`cart-nudge\` decision point (stage, true purchase probability with a noisy model estimate of it, cart) and known responses to \`none\`, \`reminder\` (wins back at-risk carts, slightly annoys others), \`free-shipping-bar\` (carts within 20 of the 50 threshold), \`incentive\` (a 5 discount paid on every purchase it is used on; lifts mid-propensity shoppers most). Values are per shopper (per decision), net of incentive cost; every true value is exact, an expectation over ${o.truthContexts.toLocaleString('en')} contexts.`,
    '',
    `In short: the 95% intervals of IPS, SNIPS and DR covered the exact values in ${cover('ips')}, ${cover('snips')} and ${cover('dr')} of the logs (per policy and logging policy the learner can deploy${r.ope[LOW_LOGGER] ? `; logged at ε 0.02, which it does not, ${lowCover(r)}` : ''}), with DR the narrowest from uniform logs. The learned policy deployed by the ship rule earns ${f2(c.learned.truth.net)} per shopper net of incentive cost (true), against ${f2(c['no strategy'].truth.net)} with no strategy, ${f2(c.rules.truth.net)} with the hand-written rules and ${f2(c['always incentive'].truth.net)} with always-on incentives; without its ε = ${c.learned.epsilon} of exploration the same value models earn ${f2(c['learned without exploration'].truth.net)} (the oracle ${f2(c.oracle.truth.net)}). It spends ${f2(inc.learned.spendPerShopper)} per shopper on incentives against ${f2(inc['always incentive'].spendPerShopper)} for always-on incentives, ${f2(inc.learned.spendPerExtraPurchase)} against ${f2(inc['always incentive'].spendPerExtraPurchase)} per extra purchase over doing nothing. The rules were written knowing where the simulator's reminder and bar pay; ${c.learned.truth.net >= c.rules.truth.net ? `the learned policy beats them by ${f2(c.learned.truth.net - c.rules.truth.net)} while it explores` : `the learned policy comes within ${f2(c.rules.truth.net - c.learned.truth.net)} of them while it explores`}${c['learned without exploration'].truth.net > c.rules.truth.net ? '' : ' (and not even without exploring)'}. The ${f2(c['learned without exploration'].truth.net - c.learned.truth.net)} per shopper left between the deployed policy and the same value models refit on every round's logs without exploring is its exploration (ε = ${c.learned.epsilon}, drawn uniformly) and the logs that came after it shipped (later candidates were not shown to beat it).${r.levers ? ` The learner's levers, each over the same ${r.leverSeeds} seeds of the rounds (table below): ${leverLine(r)}.` : ''}`,
    '',
    `### Off-policy estimates against the truth (${o.runs} logs of ${o.decisions.toLocaleString('en')} decisions per logging policy)`,
    '',
    'Bias (± its standard error), RMSE and mean 95% interval width, and how often the 95% interval covered the true value (with the Wilson interval of that share).',
    '',
  ];
  for (const [logger, byTarget] of Object.entries(r.ope)) {
    lines.push(`Logged by **${logger}**:`, '', '| policy | true value | estimator | bias | RMSE | width | coverage |', '|---|---:|---|---:|---:|---:|---:|');
    for (const [name, row] of Object.entries(byTarget)) {
      for (const est of ESTIMATORS) {
        const e = row[est];
        lines.push(`| ${est === 'ips' ? name : ''} | ${est === 'ips' ? f2(row.truth) : ''} | ${est.toUpperCase()} | ${f3(e.bias)} ± ${f3(e.biasSe)} | ${f2(e.rmse)} | ${f2(e.width)} | ${e.coverage.pct}% [${e.coverage.ci[0]}, ${e.coverage.ci[1]}] |`);
      }
    }
    lines.push('');
  }
  lines.push(
    `### Rounds of log → learn → ship → log (${o.roundShoppers.toLocaleString('en')} shoppers a round, from uniform exploration)`,
    '',
    `Ship rule: ${r.shipRule}. Each round learns on every round's logs so far (each decision with the propensity it was logged with); the DR columns are the cross-fitted estimates the rule reads.`,
    '',
    '| round | logged with | its true value | observed mean | candidate | DR of candidate | its true value | DR gain over deployed | true gain | shipped |',
    '|---:|---|---:|---:|---|---|---:|---|---:|---|',
  );
  for (const s of r.rounds) {
    lines.push(
      `| ${s.round} | ${s.loggedWith} | ${f2(s.loggedTruth)} | ${f2(s.loggedObserved)} | ${s.candidate} | ${f2(s.candidateDr.value)} [${f2(s.candidateDr.low)}, ${f2(s.candidateDr.high)}] | ${f2(s.candidateTruth)} | ${f2(s.gainDr.value)} [${f2(s.gainDr.low)}, ${f2(s.gainDr.high)}] | ${f2(s.gainTruth)} | ${s.shipped ? 'yes' : 'no'} |`,
    );
  }
  lines.push(
    '',
    `Per shopper, the policy deployed after the last round against the alternatives: the true value, and beside it the DR estimate (95% interval) from the last round's logs (logged by ${r.rounds.at(-1)?.shipped ? 'the policy deployed before the last ship' : 'the deployed policy'}):`,
    '',
    '| policy | conversion (true) | conversion (DR) | revenue (true) | revenue (DR) | incentive spend (true) | net (true) | net (DR) |',
    '|---|---:|---|---:|---|---:|---:|---|',
  );
  const ci = (e, fmt) => (e ? `${fmt(e.value)} [${fmt(e.low)}, ${fmt(e.high)}]` : '–');
  const pctE = (x) => pct(x);
  for (const [name, row] of Object.entries(r.compared)) {
    const t = row.truth;
    lines.push(
      `| ${name}${row.id !== name && name !== 'oracle' ? ` (${row.id})` : ''} | ${t.conversion === undefined ? '–' : pct(t.conversion)} | ${ci(row.dr?.conversion, pctE)} | ${f2(t.revenue)} | ${ci(row.dr?.revenue, f2)} | ${f2(t.spend)} | ${f2(t.net)} | ${ci(row.dr?.net, f2)} |`,
    );
  }
  lines.push(
    '',
    `(\`learned\` is the deployed policy, ε ${r.compared.learned?.epsilon ?? 0.1} (from the evidence it was learned on: 1 / √(decisions per action) within [${r.epsilonRange?.join(', ') ?? '0.05, 0.1'}]); \`learned without exploration\` the same value models refit on every round's logs with ε → 0: what the models are worth before the price of exploring. The oracle gives every shopper their best action; no policy linear in the decision features need reach it.)`,
    '',
    '### Incentive spend per extra purchase (true, over doing nothing)',
    '',
    'Per shopper: the share offered the incentive, its spend, the purchases the policy adds over doing nothing (all its actions) and the spend per such purchase, and the purchases its incentives themselves add (each incentive decision against doing nothing for that shopper) and the spend per purchase an incentive added.',
    '',
    '| policy | offered the incentive | incentive spend | extra purchases | spend per extra purchase | purchases the incentives add | spend per purchase an incentive added |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...Object.entries(r.incentives).map(
      ([name, x]) =>
        `| ${name} | ${pct(x.incentiveShare)} | ${f2(x.spendPerShopper)} | ${x.extraPurchasesPerShopper.toFixed(4)} | ${f2(x.spendPerExtraPurchase)} | ${x.purchasesIncentivesAddPerShopper.toFixed(4)} | ${f2(x.spendPerPurchaseIncentivesAdd)} |`,
    ),
    '',
  );
  if (r.repeats.length > 0) {
    lines.push(
      `The rounds again with other seeds (final deployed policy, true values): ${r.repeats.map((x) => `${x.deployed}: net ${f2(x.net)}, conversion ${pct(x.conversion)}, spend ${f2(x.spend)}`).join('; ')}.`,
      '',
    );
  }
  if (r.levers) {
    const rulesNet = r.compared.rules.truth.net;
    lines.push(
      `### The learner's levers (the rounds above under each variant, ${r.leverSeeds} seeds, paired)`,
      '',
      `The policy deployed after ${r.options.rounds} rounds: its true net value per shopper (mean, and the range over seeds), the mean paired gain over the first row ± its standard error, how many seeds end above the rules (${f2(rulesNet)}), its incentive spend, its ε, and the rounds that shipped per seed. Per-stage interactions: the decision features gain, per funnel stage, slopes of its own in purchase probability and cart value (core's DECISION_FEATURES, 14 → 26). λ: the value models' ridge penalty per unit of row weight. Checked on the deployed policy's own decisions: the ship rule reads only the decisions the current policy logged itself (once there are 1,000), which it was not learned from; on the others, which shaped it, it reads too well, and the check is biased against every candidate. Cross-fitted: learn on each half and read the other, one pooled interval, the policy refit on all the logs ships. ε from the evidence: 1 / √(decisions per action of the least-logged strategy), within [${r.epsilonRange?.join(', ') ?? '0.05, 0.1'}] (the floor keeps the deployed policy's logs able to evaluate other policies: see the logging policies above).`,
      '',
      '| variant | net (true) | range | gain over the first row | above the rules | incentive spend | ε | shipped in rounds |',
      '|---|---:|---|---:|---:|---:|---|---|',
      ...Object.entries(r.levers).map(
        ([name, x]) =>
          `| ${name} | ${f2(x.net)} | ${f2(x.netMin)}–${f2(x.netMax)} | ${x === Object.values(r.levers)[0] ? '–' : `${x.gain >= 0 ? '+' : ''}${f2(x.gain)} ± ${f2(x.gainSe)}`} | ${x.beatsRules} of ${x.shipRounds.length} | ${f2(x.spend)} | ${x.epsilon.join(', ')} | ${x.shipRounds.join(', ')} |`,
      ),
      '',
      ...(r.levers['+ λ 100'] && r.levers['+ per-stage interactions'] && r.levers['all three (default)']
        ? [
            `Read: λ 100 is the lever that pays (${f2(r.levers['+ λ 100'].gain)} ± ${f2(r.levers['+ λ 100'].gainSe)} alone). The per-stage interactions alone, unshrunk, do not (${f2(r.levers['+ per-stage interactions'].gain)} ± ${f2(r.levers['+ per-stage interactions'].gainSe)}), and add ${f2(r.levers['all three (default)'].gain - r.levers['+ λ 100'].gain)} beside λ 100: kept, shrunk, for shops whose actions pay differently within a stage, at no measured cost here. The check on the deployed policy's own decisions changes no ship in these rounds (every seed ships in round 1 or 2 and later gains are too small to show); it stays because it removes a bias against every later candidate (the rounds above: each later candidate's estimated gain beside its true gain).`,
          ]
        : []),
      '',
    );
  }
  return lines.join('\n');
}

let result;
if (values.render) {
  result = JSON.parse(readFileSync(values.render, 'utf8').trim().split('\n').pop());
} else {
  result = await simulate();
}
if (!values['no-md']) replaceSection(join(root, 'BENCHMARKS.md'), 'strategies', render(result));
console.log(JSON.stringify(result));
