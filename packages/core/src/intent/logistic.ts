/**
 * Logistic regression by Newton's method (IRLS), with an intercept and a ridge penalty on the
 * other weights: what the trainer fits the session purchase model with (session-purchase.ts) and
 * what `npm run bench:intent` fits its baseline with. Small and dependency-free; the browser never
 * calls it (it only evaluates a fitted model).
 */

export interface LogisticOptions {
  /**
   * The ridge penalty on the standardised weights (not the intercept), per unit of row weight:
   * the objective is Σ wᵢ·logloss(i) + l2 · Σwᵢ · |β|² / 2. Keeps a separable or collinear fit finite.
   */
  l2?: number;
  iterations?: number;
  /** Per-row weights (default 1 each): e.g. 1 / (cut points of its session), so every session counts once. */
  weights?: readonly number[];
}

export interface LogisticFit {
  /** On the original scale of the features. */
  intercept: number;
  weights: number[];
  predict(row: readonly number[]): number;
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** Solves the small dense system a x = b (Gaussian elimination, partial pivoting); a and b are overwritten. */
function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  for (let c = 0; c < n; c++) {
    let pivot = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r]![c]!) > Math.abs(a[pivot]![c]!)) pivot = r;
    [a[c], a[pivot]] = [a[pivot]!, a[c]!];
    [b[c], b[pivot]] = [b[pivot]!, b[c]!];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = a[r]![c]! / a[c]![c]!;
      if (f === 0) continue;
      for (let k = c; k < n; k++) a[r]![k]! -= f * a[c]![k]!;
      b[r]! -= f * b[c]!;
    }
  }
  return b.map((value, i) => value / a[i]![i]!);
}

/**
 * Fits P(label) = sigmoid(intercept + weights · row). Features are standardised inside (a
 * constant one is left at 0 weight), the weights returned on the original scale. Throws without
 * rows, with rows of different lengths, or with a non-finite value.
 */
export function fitLogistic(rows: readonly (readonly number[])[], labels: readonly boolean[], { l2 = 1e-3, iterations = 50, weights: rowWeights }: LogisticOptions = {}): LogisticFit {
  const n = rows.length;
  if (n === 0 || labels.length !== n || (rowWeights && rowWeights.length !== n)) throw new Error('fitLogistic: needs rows, with one label (and weight) each');
  const d = rows[0]!.length;
  const w = (i: number) => rowWeights?.[i] ?? 1;
  let total = 0;
  const mean = new Array<number>(d).fill(0);
  for (let i = 0; i < n; i++) {
    const row = rows[i]!;
    if (row.length !== d || !row.every(Number.isFinite) || !(w(i) >= 0)) throw new Error(`fitLogistic: row ${i} is not ${d} finite numbers with a weight ≥ 0`);
    total += w(i);
    for (let j = 0; j < d; j++) mean[j]! += w(i) * row[j]!;
  }
  for (let j = 0; j < d; j++) mean[j]! /= total;
  const sd = mean.map((m, j) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += w(i) * (rows[i]![j]! - m) ** 2;
    return Math.sqrt(s / total) || 1;
  });
  const x = rows.map((row) => [1, ...row.map((v, j) => (v - mean[j]!) / sd[j]!)]);
  const y = labels.map((label) => (label ? 1 : 0));
  let beta = new Array<number>(d + 1).fill(0);
  for (let it = 0; it < iterations; it++) {
    const grad = new Array<number>(d + 1).fill(0);
    const hess = Array.from({ length: d + 1 }, () => new Array<number>(d + 1).fill(0));
    for (let i = 0; i < n; i++) {
      const xi = x[i]!;
      const p = sigmoid(xi.reduce((s, v, j) => s + v * beta[j]!, 0));
      const s = w(i) * p * (1 - p);
      const r = w(i) * (y[i]! - p);
      for (let j = 0; j <= d; j++) {
        grad[j]! += r * xi[j]!;
        for (let k = j; k <= d; k++) hess[j]![k]! += s * xi[j]! * xi[k]!;
      }
    }
    for (let j = 0; j <= d; j++) for (let k = 0; k < j; k++) hess[j]![k] = hess[k]![j]!;
    for (let j = 1; j <= d; j++) {
      grad[j]! -= l2 * total * beta[j]!;
      hess[j]![j]! += l2 * total;
    }
    const step = solve(hess, grad);
    beta = beta.map((v, j) => v + step[j]!);
    if (Math.max(...step.map(Math.abs)) < 1e-10) break;
  }
  const weights = beta.slice(1).map((v, j) => v / sd[j]!);
  const intercept = beta[0]! - weights.reduce((s, v, j) => s + v * mean[j]!, 0);
  return { intercept, weights, predict: (row) => sigmoid(row.reduce((s, v, j) => s + v * weights[j]!, intercept)) };
}
