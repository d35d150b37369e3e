/**
 * Sufficient statistics of a per-shopper metric Y beside a second per-shopper value X (a
 * pre-exposure covariate for CUPED, or a ratio metric's denominator). Every estimator here
 * reads only these sums, so daily looks add a day's sums instead of rescanning shoppers.
 * Raw sums of squares are exact enough for shop metrics (means within a few standard
 * deviations of zero); a metric with a huge mean next to a tiny spread would need centring.
 */
export interface Moments {
  n: number;
  sumY: number;
  sumYY: number;
  sumX: number;
  sumXX: number;
  sumXY: number;
}

export const emptyMoments = (): Moments => ({ n: 0, sumY: 0, sumYY: 0, sumX: 0, sumXX: 0, sumXY: 0 });

/** Adds one shopper's (y, x) in place. */
export function addShopper(m: Moments, y: number, x = 0): void {
  m.n += 1;
  m.sumY += y;
  m.sumYY += y * y;
  m.sumX += x;
  m.sumXX += x * x;
  m.sumXY += x * y;
}

/** The sums of two disjoint groups of shoppers. */
export const mergeMoments = (a: Moments, b: Moments): Moments => ({
  n: a.n + b.n,
  sumY: a.sumY + b.sumY,
  sumYY: a.sumYY + b.sumYY,
  sumX: a.sumX + b.sumX,
  sumXX: a.sumXX + b.sumXX,
  sumXY: a.sumXY + b.sumXY,
});

/** The moments of per-shopper columns (X zero when not given). */
export function momentsOf(y: ArrayLike<number>, x?: ArrayLike<number>): Moments {
  const m = emptyMoments();
  for (let i = 0; i < y.length; i++) addShopper(m, y[i]!, x ? x[i]! : 0);
  return m;
}

export const meanY = (m: Moments): number => m.sumY / m.n;
export const meanX = (m: Moments): number => m.sumX / m.n;
/** Sample variance of Y (n - 1 denominator). */
export const varianceY = (m: Moments): number => (m.sumYY - (m.sumY * m.sumY) / m.n) / (m.n - 1);
export const varianceX = (m: Moments): number => (m.sumXX - (m.sumX * m.sumX) / m.n) / (m.n - 1);
/** Sample covariance of X and Y (n - 1 denominator). */
export const covarianceXY = (m: Moments): number => (m.sumXY - (m.sumX * m.sumY) / m.n) / (m.n - 1);
