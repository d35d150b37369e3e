/** An estimate with its standard error, and the normal-theory interval and test around it. */
import { twoSidedP, zFor } from './distributions.js';
import { meanY, varianceY, type Moments } from './moments.js';

export interface Estimate {
  value: number;
  se: number;
}

export interface Interval extends Estimate {
  low: number;
  high: number;
  /** Two-sided p-value against `nullValue` (0 unless given). */
  pValue: number;
}

/** value ± z(1 - alpha/2) · se. */
export function interval(e: Estimate, alpha = 0.05, nullValue = 0): Interval {
  const half = zFor(alpha) * e.se;
  return { ...e, low: e.value - half, high: e.value + half, pValue: twoSidedP((e.value - nullValue) / e.se) };
}

/** The mean of Y per shopper and its standard error sqrt(s² / n). */
export const meanEstimate = (m: Moments): Estimate => ({ value: meanY(m), se: Math.sqrt(varianceY(m) / m.n) });
