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

export interface Lift {
  absolute: Interval;
  relative: Interval;
}

export const lift = (treatment: Estimate, control: Estimate, alpha = 0.05): Lift => ({
  absolute: absoluteLift(treatment, control, alpha),
  relative: relativeLift(treatment, control, alpha),
});
