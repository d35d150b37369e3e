/**
 * Lift of a treatment arm over the control, from two independent arm estimates (a mean, a
 * ratio metric or a CUPED-adjusted mean): absolute (difference) and relative (ratio - 1).
 */
import { interval, type Estimate, type Interval } from './estimate.js';

/** treatment - control; the arms are independent, so the variances add. */
export function absoluteLift(treatment: Estimate, control: Estimate, alpha = 0.05): Interval {
  return interval({ value: treatment.value - control.value, se: Math.hypot(treatment.se, control.se) }, alpha);
}

/**
 * treatment / control - 1 by the delta method: for independent means T and C,
 * Var(T/C) ≈ Var(T)/C² + T²·Var(C)/C⁴. Accurate while the control's relative standard
 * error is small (under ~10%); the p-value tests a relative lift of 0.
 */
export function relativeLift(treatment: Estimate, control: Estimate, alpha = 0.05): Interval {
  const t = treatment.value, c = control.value;
  const se = Math.sqrt(treatment.se ** 2 / c ** 2 + (t ** 2 * control.se ** 2) / c ** 4);
  return interval({ value: t / c - 1, se }, alpha);
}

/**
 * log(treatment / control) by the delta method: Var ≈ Var(T)/T² + Var(C)/C², symmetric in the
 * two arms. Where an arm has few events, the ratio's own delta-method variance (relativeLift)
 * is too small whenever T < C, so intervals built on it reject too often; on the log scale the
 * estimate is close to normal, and exp(bounds) - 1 are the relative lift's bounds. NaN for a
 * non-positive arm.
 */
export function logRatio(treatment: Estimate, control: Estimate, alpha = 0.05): Interval {
  const t = treatment.value, c = control.value;
  if (!(t > 0 && c > 0)) return interval({ value: Number.NaN, se: Number.NaN }, alpha);
  return interval({ value: Math.log(t / c), se: Math.hypot(treatment.se / t, control.se / c) }, alpha);
}

/**
 * treatment / control - 1 with its interval and p-value from logRatio (bounds exp(·) - 1, so
 * asymmetric), and relativeLift's standard error for reference: the relative lift to show where
 * an arm may have few events.
 */
export function relativeLiftOnLogScale(treatment: Estimate, control: Estimate, alpha = 0.05): Interval {
  const log = logRatio(treatment, control, alpha);
  const delta = relativeLift(treatment, control, alpha);
  return { value: delta.value, se: delta.se, low: Math.expm1(log.low), high: Math.expm1(log.high), pValue: log.pValue };
}

export interface Lift {
  absolute: Interval;
  relative: Interval;
}

export const lift = (treatment: Estimate, control: Estimate, alpha = 0.05): Lift => ({
  absolute: absoluteLift(treatment, control, alpha),
  relative: relativeLift(treatment, control, alpha),
});
