// Scoring a probability against a yes/no outcome, for `npm run bench:intent`: AUC (with a
// bootstrap interval), Brier score, a calibration table, and the plain logistic regression the
// baseline is (core's fitLogistic). Plain JS over arrays; test/bench-intent.test.ts checks them.
import { fitLogistic as fitCore } from '@hunch/core';
import { uniforms } from './random.mjs';

/**
 * Area under the ROC curve: the chance that a random positive scores above a random negative,
 * ties counting one half (Mann-Whitney, from average ranks). null without both classes.
 */
export function auc(scores, labels) {
  const order = scores.map((score, i) => i).sort((a, b) => scores[a] - scores[b]);
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && scores[order[j + 1]] === scores[order[i]]) j++;
    const rank = (i + j) / 2 + 1; // average 1-based rank of the tie group
    for (let k = i; k <= j; k++) {
      if (labels[order[k]]) {
        positives++;
        rankSum += rank;
      }
    }
    i = j + 1;
  }
  const negatives = order.length - positives;
  if (positives === 0 || negatives === 0) return null;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Mean squared difference between the probability and the outcome (0 best). */
export function brier(probabilities, labels) {
  return probabilities.reduce((sum, p, i) => sum + (p - (labels[i] ? 1 : 0)) ** 2, 0) / probabilities.length;
}

/** Mean log loss (natural log), probabilities clipped to [1e-6, 1 - 1e-6]. */
export function logLoss(probabilities, labels) {
  return -probabilities.reduce((sum, p, i) => {
    const q = Math.min(1 - 1e-6, Math.max(1e-6, p));
    return sum + (labels[i] ? Math.log(q) : Math.log(1 - q));
  }, 0) / probabilities.length;
}

const quantile = (sorted, q) => {
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  return sorted[lo] + (sorted[Math.min(lo + 1, sorted.length - 1)] - sorted[lo]) * (at - lo);
};

/**
 * A statistic of several score columns on the same rows, resampled `runs` times: rows are drawn
 * with replacement within each class (a stratified bootstrap, so every resample has the test set's
 * positives and negatives), and `statistic(columns, labels)` returns an array of numbers.
 * Returns, per number, the 2.5% and 97.5% percentiles.
 */
export function bootstrap(columns, labels, statistic, { runs = 2000, seed = 1 } = {}) {
  const random = uniforms(seed);
  const pos = [];
  const neg = [];
  labels.forEach((label, i) => (label ? pos : neg).push(i));
  const draws = [];
  for (let r = 0; r < runs; r++) {
    const rows = [];
    for (let k = 0; k < pos.length; k++) rows.push(pos[Math.floor(random() * pos.length)]);
    for (let k = 0; k < neg.length; k++) rows.push(neg[Math.floor(random() * neg.length)]);
    draws.push(statistic(columns.map((column) => rows.map((i) => column[i])), rows.map((i) => labels[i])));
  }
  return draws[0].map((_, j) => {
    const sorted = draws.map((draw) => draw[j]).filter((x) => x !== null).sort((a, b) => a - b);
    return [quantile(sorted, 0.025), quantile(sorted, 0.975)];
  });
}

const Z = 1.959963984540054;

/** A share with its 95% Wilson interval. */
export function wilson(hits, n) {
  if (n === 0) return [0, 1];
  const p = hits / n;
  const centre = (p + (Z * Z) / (2 * n)) / (1 + (Z * Z) / n);
  const half = (Z / (1 + (Z * Z) / n)) * Math.sqrt((p * (1 - p)) / n + (Z * Z) / (4 * n * n));
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/**
 * The calibration table: rows sorted by probability and cut into `bins` groups of (nearly) equal
 * size (ties may straddle a cut: equal-count bins, not equal-width ones, so no bin is empty);
 * per bin the mean predicted probability, the observed share with its Wilson interval, and the
 * counts. Also the expected calibration error, sum over bins of n/N * |observed - predicted|.
 */
export function calibration(probabilities, labels, bins = 5) {
  const order = probabilities.map((p, i) => i).sort((a, b) => probabilities[a] - probabilities[b] || a - b);
  const table = [];
  for (let b = 0; b < bins; b++) {
    const rows = order.slice(Math.round((b * order.length) / bins), Math.round(((b + 1) * order.length) / bins));
    if (rows.length === 0) continue;
    const hits = rows.reduce((n, i) => n + (labels[i] ? 1 : 0), 0);
    const predicted = rows.reduce((s, i) => s + probabilities[i], 0) / rows.length;
    table.push({
      n: rows.length,
      from: probabilities[rows[0]],
      to: probabilities[rows.at(-1)],
      predicted,
      observed: hits / rows.length,
      positives: hits,
      interval: wilson(hits, rows.length),
    });
  }
  const ece = table.reduce((s, bin) => s + (bin.n / probabilities.length) * Math.abs(bin.observed - bin.predicted), 0);
  return { bins: table, ece };
}

/** The ROC curve's points (false-positive rate, true-positive rate), from (0,0) to (1,1). */
export function rocCurve(scores, labels) {
  const order = scores.map((s, i) => i).sort((a, b) => scores[b] - scores[a]);
  const positives = labels.filter(Boolean).length;
  const negatives = labels.length - positives;
  const points = [{ x: 0, y: 0 }];
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < order.length; i++) {
    if (labels[order[i]]) tp++;
    else fp++;
    if (i + 1 === order.length || scores[order[i + 1]] !== scores[order[i]]) points.push({ x: fp / negatives, y: tp / positives });
  }
  return points;
}

/**
 * The baseline's logistic regression: core's fitLogistic (packages/core/src/intent/logistic.ts,
 * IRLS with a small ridge penalty on the standardised weights), the very fit `hunch train` uses for
 * the shipped session purchase model. Returns { weights: [intercept, ...], predict(row) }.
 */
export function fitLogistic(rows, labels, { l2 = 1e-3, iterations = 50 } = {}) {
  const fit = fitCore(rows, labels, { l2, iterations });
  return { weights: [fit.intercept, ...fit.weights], predict: fit.predict };
}
