/**
 * Weighted ridge regression: w = (XᵀWX + λI)⁻¹ XᵀWy, solved by Cholesky. The value models of a
 * policy are a dozen features wide, so the normal equations are small and exact enough; λ keeps
 * them solvable when features are collinear (the stage indicators sum to the bias).
 */

/** Sufficient statistics of a weighted least-squares fit: XᵀWX, XᵀWy and the total weight. */
export interface NormalEquations {
  dim: number;
  xtx: Float64Array;
  xty: Float64Array;
  weight: number;
  n: number;
}

export const emptyNormalEquations = (dim: number): NormalEquations => ({ dim, xtx: new Float64Array(dim * dim), xty: new Float64Array(dim), weight: 0, n: 0 });

/** Adds one row (features x, target y, weight w) in place. */
export function addRow(eq: NormalEquations, x: readonly number[], y: number, w = 1): void {
  const d = eq.dim;
  for (let i = 0; i < d; i++) {
    const wx = w * x[i]!;
    if (wx === 0) continue;
    eq.xty[i]! += wx * y;
    for (let j = 0; j < d; j++) eq.xtx[i * d + j]! += wx * x[j]!;
  }
  eq.weight += w;
  eq.n++;
}

/** Solves (A + λI) w = b for a symmetric positive semi-definite A (λ > 0 makes it definite). */
export function solveRidge(eq: NormalEquations, lambda: number): number[] {
  const d = eq.dim;
  const a = Float64Array.from(eq.xtx);
  for (let i = 0; i < d; i++) a[i * d + i]! += lambda;
  // Cholesky: a = L Lᵀ, L in the lower triangle of `a`.
  for (let j = 0; j < d; j++) {
    let s = a[j * d + j]!;
    for (let k = 0; k < j; k++) s -= a[j * d + k]! ** 2;
    if (!(s > 0)) throw new Error('ridge: the system is not positive definite (lambda must be > 0)');
    const l = Math.sqrt(s);
    a[j * d + j] = l;
    for (let i = j + 1; i < d; i++) {
      let t = a[i * d + j]!;
      for (let k = 0; k < j; k++) t -= a[i * d + k]! * a[j * d + k]!;
      a[i * d + j] = t / l;
    }
  }
  const z = new Array<number>(d).fill(0);
  for (let i = 0; i < d; i++) {
    let t = eq.xty[i]!;
    for (let k = 0; k < i; k++) t -= a[i * d + k]! * z[k]!;
    z[i] = t / a[i * d + i]!;
  }
  const w = new Array<number>(d).fill(0);
  for (let i = d - 1; i >= 0; i--) {
    let t = z[i]!;
    for (let k = i + 1; k < d; k++) t -= a[k * d + i]! * w[k]!;
    w[i] = t / a[i * d + i]!;
  }
  return w;
}
