/**
 * The distributions the experiment statistics need, from jstat: one dependency-free file, MIT,
 * with the normal CDF and quantile and the chi-square CDF. (@stdlib's per-function packages are
 * better maintained but pulled 216 packages for these three; simple-statistics has no
 * continuous chi-square CDF, only a table without the 0.001 level the SRM check uses.)
 */
import jStat from 'jstat';

/** P(Z <= z) for a standard normal Z. */
export const normalCdf = (z: number): number => jStat.normal.cdf(z, 0, 1);

/** The z with P(Z <= z) = p. */
export const normalQuantile = (p: number): number => jStat.normal.inv(p, 0, 1);

/** Two-sided p-value of a z statistic. */
export const twoSidedP = (z: number): number => 2 * normalCdf(-Math.abs(z));

/** The z of a two-sided (1 - alpha) interval: 1.959964 for alpha = 0.05. */
export const zFor = (alpha: number): number => normalQuantile(1 - alpha / 2);

/** P(X > x) for X chi-square with `dof` degrees of freedom: the p-value of a goodness-of-fit statistic. */
export const chiSquareSf = (x: number, dof: number): number => Math.max(0, 1 - jStat.chisquare.cdf(x, dof));
