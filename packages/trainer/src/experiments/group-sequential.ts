/**
 * Group-sequential inference for a planned schedule of looks: Lan–DeMets alpha spending with
 * repeated confidence intervals (Lan & DeMets, Biometrika 1983; Jennison & Turnbull,
 * "Group Sequential Methods with Applications to Clinical Trials", 2000, ch. 7 and 9).
 *
 * When to use which interval:
 * - a merchant who looks every day (or at any other times) up to a planned horizon, e.g. 14 days
 *   of planned traffic: these intervals. They spend α = 0.05 exactly over the looks actually
 *   made, so an A/A test rejects ~5% of the time and an A/B test keeps most of the fixed test's
 *   power (O'Brien–Fleming-type spending ends at 2.03 with 5 equal looks, 2.10 with 14 daily ones,
 *   instead of 1.96);
 * - unplanned, open-ended monitoring (no horizon, or one that may be extended at will, or looks
 *   after every order): the always-valid mSPRT confidence sequence of `sequential.ts`, which
 *   holds for any number of looks at any times, at the price of width (~1.55× at its horizon).
 *
 * The information fraction of a look is t = V_plan / V, the variance of the estimate at the
 * planned horizon over its variance now; with shoppers of a stable mix that is n / N_planned
 * (`informationFractions`), capped at 1. The spending function α(t) says how much of the type I
 * error may have been used by then; the critical value c_k of look k is the one at which
 * P(|Z_j| ≥ c_j for some j ≤ k | H0) = α(t_k), given the earlier c_j. Under H0 the z-statistics
 * are those of a Brownian motion W(t) = Z·√t observed at the fractions: independent normal
 * increments of variance t_k − t_{k−1}. The recursion of Armitage, McPherson & Rowe (JRSS A 1969)
 * carries the density of W(t_k) on the continuation region |W| < c_k√t_k from look to look, by
 * Simpson's rule on a grid; each c_k is found by bisection. Because the boundaries depend only
 * on the fractions reached, looks need not be equally spaced nor planned in number: an extra or
 * a skipped look just spends α(t) at the t it happens at. The (1 − α) repeated confidence
 * interval at look k is estimate ± c_k·SE_k; all of them cover the truth at once with
 * probability ≥ 1 − α (exactly, for a normal estimate whose variance follows the plan).
 *
 * At the planned final look pass t = 1 (it spends whatever is left, the usual convention); a
 * look past the horizon gets t = 1 again, no new α and the final boundary, so a horizon should
 * not be overrun: that is the mSPRT's case.
 */
import { normalCdf, normalQuantile } from './distributions.js';
import type { Estimate, Interval } from './estimate.js';

/** Lan–DeMets spending function shapes: O'Brien–Fleming-type (spends little early) and Pocock-type (evenly). */
export type SpendingFunction = 'obrien-fleming' | 'pocock';

/**
 * α(t), the two-sided type I error spent by information fraction t ∈ [0, 1], α/2 on each side.
 * O'Brien–Fleming-type: each side spends Lan & DeMets' 2 − 2Φ(z_{α'/2}/√t) of its one-sided
 * α' = α/2, so α(t) = 4 − 4Φ(z_{α/4}/√t): the convention of the published tables and of
 * gsDesign, ldbounds and SAS SEQDESIGN (5 equal looks: 4.877, 3.357, 2.680, 2.290, 2.031).
 * Applying 2 − 2Φ(z_{α/2}/√t) to the two-sided α instead spends more early (c = 4.383 at t = 0.2)
 * and less late; both reach α at t = 1. Pocock-type: α·log(1 + (e − 1)t), the same either way.
 */
export function alphaSpent(t: number, alpha = 0.05, spending: SpendingFunction = 'obrien-fleming'): number {
  if (!(t > 0)) return 0;
  const f = Math.min(1, t);
  if (spending === 'pocock') return alpha * Math.log(1 + (Math.E - 1) * f);
  return 4 * normalCdf(-normalQuantile(1 - alpha / 4) / Math.sqrt(f));
}

export interface BoundaryOptions {
  /**
   * Least grid points per look for Simpson's rule (made odd). The grid also has at least 8 points per
   * standard deviation of the next increment of W, which is what decides the accuracy: the 5-look
   * boundaries agree to 6 decimals from 51 to 1,001 points. Default 101.
   */
  points?: number;
}

/** Beyond this many standard deviations of W(t_k) the density is < 1e-17 and is not carried. */
const SPAN_SD = 9;
/** The grid has at least this many points per standard deviation of the next increment. */
const POINTS_PER_STEP_SD = 8;
const MAX_POINTS = 4001;
const SQRT_2PI = Math.sqrt(2 * Math.PI);

/**
 * Two-sided critical values c_k (on the z scale) for looks at information fractions `fractions`
 * (nondecreasing, in (0, 1]; values above 1 count as 1). Reject at look k when |Z_k| ≥ c_k.
 * A look that adds no information (t_k ≤ t_{k−1}) spends nothing and repeats the previous c.
 * A look whose α increment is below 1e-12 gets the z of that increment as if it were alone,
 * which it then practically is, and one whose increment is 0 in double precision (jstat's Φ is 0
 * below z ≈ −8.3, so O'Brien–Fleming-type spending before t ≈ 0.073, where the true α(t) is under
 * 1e-15) gets c = Infinity: it cannot reject, and its interval is the whole line.
 */
export function spendingBoundaries(
  fractions: readonly number[],
  alpha = 0.05,
  spending: SpendingFunction = 'obrien-fleming',
  options: BoundaryOptions = {},
): number[] {
  const basePoints = Math.max(5, options.points ?? 101);
  const out: number[] = [];
  // The density of W(t_prev) on the continuation region, on an equally spaced grid (Simpson weights folded in).
  let grid: Float64Array | null = null;
  let weighted: Float64Array | null = null; // density × Simpson weight × spacing
  let tPrev = 0;
  let spentPrev = 0;
  for (let k = 0; k < fractions.length; k++) {
    const t = Math.min(1, fractions[k]!);
    if (!(t > tPrev)) {
      if (!(t > 0)) throw new RangeError(`information fraction ${fractions[k]} at look ${k + 1} is not positive`);
      out.push(out.length ? out[out.length - 1]! : Infinity);
      continue;
    }
    const spentNow = alphaSpent(t, alpha, spending);
    const target = spentNow - spentPrev;
    const step = Math.sqrt(t - tPrev);
    const sqrtT = Math.sqrt(t);
    // P(|W(t)| ≥ c√t and no earlier crossing), and its derivative in c, for Newton's method.
    const crossing = (c: number): [number, number] => {
      const b = c * sqrtT;
      let p = 0;
      let dp = 0;
      for (let i = 0; i < grid!.length; i++) {
        const u = grid![i]!;
        const lower = (-b - u) / step;
        const upper = (u - b) / step;
        p += weighted![i]! * (normalCdf(lower) + normalCdf(upper));
        dp -= weighted![i]! * (Math.exp(-0.5 * lower * lower) + Math.exp(-0.5 * upper * upper));
      }
      return [p, (dp * sqrtT) / (step * SQRT_2PI)];
    };
    let c: number;
    if (target <= 0) c = Infinity;
    else {
      // Alone, the look would need the z of its increment; earlier looks only take away crossings, so c is at most that.
      let hi = -normalQuantile(target / 2);
      c = hi;
      if (grid && target >= 1e-12 && Number.isFinite(hi)) {
        // Safeguarded Newton on crossing(c) = target, decreasing in c, bracketed by [lo, hi].
        let lo = 0;
        for (let i = 0; i < 100; i++) {
          const [p, dp] = crossing(c);
          if (p > target) lo = c;
          else hi = c;
          let next = c - (p - target) / dp;
          if (!(next > lo && next < hi)) next = (lo + hi) / 2;
          if (Math.abs(next - c) < 1e-10 || hi - lo < 1e-10) {
            c = next;
            break;
          }
          c = next;
        }
      }
    }
    out.push(c);
    if (k === fractions.length - 1) break;
    // Carry the density of W(t) on |W| < c√t (truncated where it is negligible) to the next look.
    const half = Math.min(c * sqrtT, SPAN_SD * sqrtT);
    const nextT = Math.min(1, fractions[k + 1]!);
    const nextStep = nextT > t ? Math.sqrt(nextT - t) : step;
    let n = Math.max(basePoints, Math.ceil((2 * half * POINTS_PER_STEP_SD) / nextStep) + 1);
    n = Math.min(MAX_POINTS, n % 2 === 1 ? n : n + 1);
    const h = (2 * half) / (n - 1);
    const nextGrid = new Float64Array(n);
    const nextWeighted = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      const w = -half + j * h;
      nextGrid[j] = w;
      let density: number;
      if (!grid) density = Math.exp((-w * w) / (2 * t)) / (sqrtT * SQRT_2PI);
      else {
        density = 0;
        for (let i = 0; i < grid.length; i++) {
          const d = (w - grid[i]!) / step;
          density += weighted![i]! * Math.exp(-0.5 * d * d);
        }
        density /= step * SQRT_2PI;
      }
      const simpson = j === 0 || j === n - 1 ? 1 : j % 2 === 1 ? 4 : 2;
      nextWeighted[j] = (density * simpson * h) / 3;
    }
    grid = nextGrid;
    weighted = nextWeighted;
    tPrev = t;
    spentPrev = spentNow;
  }
  return out;
}

/**
 * Information fractions n_k / N_planned from the shoppers enrolled at each look, capped at 1.
 * With `finalLook` the last look is the planned final analysis and gets t = 1.
 */
export function informationFractions(counts: readonly number[], plannedCount: number, finalLook = false): number[] {
  return counts.map((n, k) => (finalLook && k === counts.length - 1 ? 1 : Math.min(1, n / plannedCount)));
}

export interface RepeatedInterval extends Interval {
  /** The critical value c_k of this look: the interval is value ± c_k·se. */
  boundary: number;
  /** The information fraction of this look. */
  fraction: number;
  /** The nominal two-sided level 2(1 − Φ(c_k)) that `pValue` (the look's unadjusted p-value) must fall under to reject. */
  nominalAlpha: number;
}

/**
 * The (1 − alpha) repeated confidence intervals, one per look, of estimates made at information
 * fractions `fractions` (see `spendingBoundaries`). `pValue` is each look's nominal p-value
 * against `nullValue`; the test rejects at look k when the interval excludes it, i.e. when
 * pValue ≤ nominalAlpha.
 */
export function repeatedConfidenceIntervals(
  estimates: readonly Estimate[],
  fractions: readonly number[],
  alpha = 0.05,
  spending: SpendingFunction = 'obrien-fleming',
  nullValue = 0,
  boundaries: readonly number[] = spendingBoundaries(fractions, alpha, spending),
): RepeatedInterval[] {
  if (estimates.length !== fractions.length) throw new RangeError('one information fraction per estimate');
  return estimates.map((e, k) => {
    const c = boundaries[k]!;
    const half = c * e.se;
    return {
      ...e,
      low: e.value - half,
      high: e.value + half,
      pValue: 2 * normalCdf(-Math.abs(e.value - nullValue) / e.se),
      boundary: c,
      fraction: Math.min(1, fractions[k]!),
      nominalAlpha: 2 * normalCdf(-c),
    };
  });
}
