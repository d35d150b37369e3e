/**
 * Sample-ratio mismatch: are the arms' shopper counts plausible under the configured weights?
 * Pearson's chi-square goodness of fit, k - 1 degrees of freedom. A mismatch means assignment
 * or logging lost shoppers unevenly, so no lift from the experiment can be trusted; the strict
 * p < 0.001 threshold (as Microsoft's ExP and most platforms use) keeps false alarms rare when
 * the check runs on every experiment.
 */
import { chiSquareSf } from './distributions.js';

export const SRM_THRESHOLD = 0.001;

export interface SrmResult {
  chiSquare: number;
  dof: number;
  pValue: number;
  mismatch: boolean;
  expected: number[];
}

export function sampleRatioMismatch(counts: readonly number[], weights: readonly number[], threshold = SRM_THRESHOLD): SrmResult {
  if (counts.length !== weights.length || counts.length < 2) throw new Error('need a count and a weight for each of at least two arms');
  const total = counts.reduce((s, c) => s + c, 0);
  const weightSum = weights.reduce((s, w) => s + w, 0);
  const expected = weights.map((w) => (total * w) / weightSum);
  const chiSquare = counts.reduce((s, c, i) => s + (c - expected[i]!) ** 2 / expected[i]!, 0);
  const dof = counts.length - 1;
  const pValue = chiSquareSf(chiSquare, dof);
  return { chiSquare, dof, pValue, mismatch: pValue < threshold, expected };
}
